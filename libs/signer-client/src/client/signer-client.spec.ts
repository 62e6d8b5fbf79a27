import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import { LoopbackServer, problem, type CannedAnswer, type RecordedRequest } from '../../test/loopback-server';
import { DpopKey } from '../dpop/dpop-key';
import { parseRetryAfter, SignerProblemError, SignerTransportError } from './client-errors';
import { SIGN_DSSE_PATH, SignerClient, VERIFY_REFERRERS_PATH } from './signer-client';
import type { SignDsseRequest } from './wire-types';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.secret-optok-claims.c2ln';
const SIGN_REQUEST: SignDsseRequest = {
  subject: [{ name: 'artifact.txt', digest: { sha256: 'ab'.repeat(32) } }],
  predicateType: 'https://stella-ops.org/attestations/scan-report/1',
  predicate: { artifact: { name: 'artifact.txt', size: 3 } },
  scannerImageDigest: `sha256:${'cd'.repeat(32)}`,
  poe: { format: 'jwt', value: 'poe-value' },
};
const SIGNED: CannedAnswer = {
  status: 200,
  body: { auditId: 'audit-ok', bundle: {}, sigstoreBundle: {}, policy: {} },
};

interface ProofView {
  header: { typ?: string; alg?: string; jwk?: JWK };
  claims: Record<string, unknown>;
}

/** Decodes a DPoP proof and verifies its signature against the key in its own header. */
async function verifiedProof(request: RecordedRequest): Promise<ProofView> {
  const proof = String(request.headers['dpop']);
  const { payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
  return { header: decodeProtectedHeader(proof) as ProofView['header'], claims: payload };
}

describe('SignerClient', () => {
  let server: LoopbackServer | undefined;
  let key: DpopKey;

  beforeAll(async () => {
    key = await DpopKey.generate();
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const clientFor = (
    loopback: LoopbackServer,
    overrides: Partial<ConstructorParameters<typeof SignerClient>[0]> = {},
  ) => new SignerClient({ baseUrl: loopback.baseUrl, accessToken: TOKEN, dpopKey: key, ...overrides });

  describe('when the server requires a DPoP nonce', () => {
    beforeEach(async () => {
      server = await LoopbackServer.start((_request, index) =>
        index === 0 ? problem(401, 'use_dpop_nonce', 'audit-nonce', { 'dpop-nonce': 'nonce-1' }) : SIGNED,
      );
    });

    it('retries once with a signed proof that carries the nonce', async () => {
      const loopback = server as LoopbackServer;
      await expect(clientFor(loopback).signDsse(SIGN_REQUEST)).resolves.toMatchObject({
        auditId: 'audit-ok',
      });

      expect(loopback.requests).toHaveLength(2);
      const [first, second] = await Promise.all(loopback.requests.map(verifiedProof));
      expect(first.claims['nonce']).toBeUndefined();
      expect(second.claims).toMatchObject({
        htm: 'POST',
        htu: `${loopback.baseUrl}${SIGN_DSSE_PATH}`,
        nonce: 'nonce-1',
        ath: createHash('sha256').update(TOKEN).digest('base64url'),
      });
      expect(second.claims['jti']).not.toEqual(first.claims['jti']);
      expect(second.header.typ).toBe('dpop+jwt');
      expect(await calculateJwkThumbprint(second.header.jwk as JWK, 'sha256')).toBe(key.thumbprint);
      expect(loopback.requests[1].headers['authorization']).toBe(`DPoP ${TOKEN}`);
      expect(JSON.parse(loopback.requests[1].body)).toEqual(SIGN_REQUEST);
    });

    it('sends the remembered nonce on the next call without a new challenge', async () => {
      const loopback = server as LoopbackServer;
      const client = clientFor(loopback);
      await client.signDsse(SIGN_REQUEST);
      await client.signDsse(SIGN_REQUEST);

      expect(loopback.requests).toHaveLength(3);
      expect((await verifiedProof(loopback.requests[2])).claims['nonce']).toBe('nonce-1');
    });
  });

  describe('when every answer is a nonce challenge', () => {
    it('rejects with use_dpop_nonce after exactly one retry', async () => {
      server = await LoopbackServer.start((_request, index) =>
        problem(401, 'use_dpop_nonce', 'audit-n', { 'dpop-nonce': `n-${index}` }),
      );

      await expect(clientFor(server).signDsse(SIGN_REQUEST)).rejects.toMatchObject({
        name: 'SignerProblemError',
        code: 'use_dpop_nonce',
        status: 401,
      });
      expect(server.requests).toHaveLength(2);
    });
  });

  describe('when a successful answer carries a DPoP-Nonce header', () => {
    it('puts that nonce in the next proof', async () => {
      server = await LoopbackServer.start(() => ({
        status: 200,
        headers: { 'dpop-nonce': 'fresh' },
        body: { digest: 'x', trusted: true },
      }));
      const client = clientFor(server);
      await client.verifyReferrers(`sha256:${'ef'.repeat(32)}`);
      await client.verifyReferrers(`sha256:${'ef'.repeat(32)}`);

      expect((await verifiedProof(server.requests[0])).claims['nonce']).toBeUndefined();
      expect((await verifiedProof(server.requests[1])).claims['nonce']).toBe('fresh');
    });
  });

  describe('when verifyReferrers is called', () => {
    it('sends the digest as a query and leaves it out of htu', async () => {
      server = await LoopbackServer.start(() => ({
        status: 200,
        body: { digest: 'd', trusted: false, reason: 'no_signatures' },
      }));
      const digest = `sha256:${'ef'.repeat(32)}`;

      await expect(clientFor(server).verifyReferrers(digest)).resolves.toMatchObject({
        trusted: false,
        reason: 'no_signatures',
      });
      expect(server.requests[0]).toMatchObject({
        method: 'GET',
        url: `${VERIFY_REFERRERS_PATH}?digest=${encodeURIComponent(digest)}`,
      });
      expect((await verifiedProof(server.requests[0])).claims).toMatchObject({
        htm: 'GET',
        htu: `${server.baseUrl}${VERIFY_REFERRERS_PATH}`,
      });
    });
  });

  describe('when keys() is called', () => {
    it('sends no credentials', async () => {
      server = await LoopbackServer.start(() => ({
        status: 200,
        body: { keys: [{ keyId: 'default', algorithm: 'ES256', publicKeyPem: 'PEM' }] },
      }));

      await expect(clientFor(server).keys()).resolves.toEqual({
        keys: [{ keyId: 'default', algorithm: 'ES256', publicKeyPem: 'PEM' }],
      });
      expect(server.requests[0].headers['authorization']).toBeUndefined();
      expect(server.requests[0].headers['dpop']).toBeUndefined();
    });
  });

  describe('when call options are given', () => {
    it('sends Idempotency-Key and X-Correlation-Id', async () => {
      server = await LoopbackServer.start(() => SIGNED);
      await clientFor(server).signDsse(SIGN_REQUEST, { idempotencyKey: 'idem-1', correlationId: 'corr-1' });

      expect(server.requests[0].headers).toMatchObject({
        'idempotency-key': 'idem-1',
        'x-correlation-id': 'corr-1',
        'content-type': 'application/json',
      });
    });
  });

  describe('when the access token is a function', () => {
    it('asks it once per call, also across the nonce retry', async () => {
      server = await LoopbackServer.start((_request, index) =>
        index === 0 ? problem(401, 'use_dpop_nonce', 'a', { 'dpop-nonce': 'n' }) : SIGNED,
      );
      const accessToken = jest.fn(async () => TOKEN);
      await clientFor(server, { accessToken }).signDsse(SIGN_REQUEST);

      expect(accessToken).toHaveBeenCalledTimes(1);
      expect(server.requests.map((request) => request.headers['authorization'])).toEqual([
        `DPoP ${TOKEN}`,
        `DPoP ${TOKEN}`,
      ]);
    });
  });

  describe('when no DPoP key is given', () => {
    it('sends the token as Bearer without a proof', async () => {
      server = await LoopbackServer.start(() => SIGNED);
      await clientFor(server, { dpopKey: undefined }).signDsse(SIGN_REQUEST);

      expect(server.requests[0].headers['authorization']).toBe(`Bearer ${TOKEN}`);
      expect(server.requests[0].headers['dpop']).toBeUndefined();
    });
  });

  describe('when the Signer refuses and retries are off', () => {
    it('rejects with a SignerProblemError carrying status, code, auditId and Retry-After', async () => {
      server = await LoopbackServer.start(() =>
        problem(429, 'plan_throttled', 'audit-429', { 'retry-after': '7', 'x-correlation-id': 'corr-429' }),
      );
      const error = await clientFor(server, { retry: false })
        .signDsse(SIGN_REQUEST)
        .catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(SignerProblemError);
      expect(error).toMatchObject({
        attempts: 1,
        status: 429,
        code: 'plan_throttled',
        auditId: 'audit-429',
        retryAfterSeconds: 7,
        correlationId: 'corr-429',
        message: 'plan_throttled: refused: plan_throttled (auditId audit-429)',
      });
    });

    it('keeps the token, the proof and the PoE out of the message and the error', async () => {
      server = await LoopbackServer.start(() => problem(401, 'invalid_token', 'audit-401'));
      const error = (await clientFor(server)
        .signDsse(SIGN_REQUEST)
        .catch((caught: unknown) => caught)) as SignerProblemError;
      const proof = String(server.requests[0].headers['dpop']);

      for (const secret of [TOKEN, proof, 'poe-value']) {
        expect(error.message).not.toContain(secret);
        expect(JSON.stringify(error)).not.toContain(secret);
      }
      expect(server.requests).toHaveLength(1);
    });

    it('reports an answer that is not a Signer problem as unexpected_response', async () => {
      server = await LoopbackServer.start(() => ({
        status: 502,
        headers: { 'content-type': 'text/html' },
        body: '<html>bad gateway</html>',
      }));

      await expect(clientFor(server).signDsse(SIGN_REQUEST)).rejects.toMatchObject({
        code: 'unexpected_response',
        status: 502,
        auditId: undefined,
      });
    });
  });

  describe('when a 200 answer is not a JSON object', () => {
    it('rejects with unexpected_response', async () => {
      server = await LoopbackServer.start(() => ({ status: 200, body: 'not json' }));

      await expect(clientFor(server).signDsse(SIGN_REQUEST)).rejects.toMatchObject({
        code: 'unexpected_response',
        status: 200,
      });
    });
  });

  describe('when the server does not answer in time', () => {
    it('rejects with a SignerTransportError timeout', async () => {
      server = await LoopbackServer.start(() => 'hang');
      const error = await clientFor(server, { timeoutMs: 150 })
        .signDsse(SIGN_REQUEST)
        .catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(SignerTransportError);
      expect(error).toMatchObject({ code: 'timeout' });
    });
  });

  describe('when nothing listens at the base URL', () => {
    it('rejects with a SignerTransportError network_error', async () => {
      const closed = await LoopbackServer.start(() => SIGNED);
      await closed.close();

      await expect(clientFor(closed).signDsse(SIGN_REQUEST)).rejects.toMatchObject({
        name: 'SignerTransportError',
        code: 'network_error',
      });
    });
  });

  describe('when the base URL is not http(s)', () => {
    it('throws at construction', () => {
      expect(() => new SignerClient({ baseUrl: 'file:///tmp', accessToken: TOKEN })).toThrow(TypeError);
    });
  });
});

describe('parseRetryAfter', () => {
  describe('when the header is delta-seconds', () => {
    it('returns the seconds', () => {
      expect(parseRetryAfter('120')).toBe(120);
    });
  });

  describe('when the header is an HTTP-date', () => {
    it('returns the seconds until that date', () => {
      const now = Date.parse('2026-01-01T00:00:00Z');
      expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    });
  });

  describe('when the header is absent or garbage', () => {
    it('returns undefined', () => {
      expect(parseRetryAfter(null)).toBeUndefined();
      expect(parseRetryAfter('soon')).toBeUndefined();
    });
  });
});
