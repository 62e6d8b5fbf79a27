import { createHash, randomBytes } from 'node:crypto';
import { SignerError } from '@signer/core';
import { EndlessBodyServer, FakeLicensingServer, INTROSPECT_PATH, RedirectingProxy } from '@signer/testing';
import { activeDevLicence } from '../../test/dev-authorities';
import { OnlinePoeVerifier, parseRetryAfter } from './online-poe-verifier';

async function refusal(promise: Promise<unknown>): Promise<SignerError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof SignerError)) throw new Error(`expected a SignerError, got ${String(error)}`);
  return error;
}

describe('OnlinePoeVerifier', () => {
  let licensing: FakeLicensingServer;
  let verifier: OnlinePoeVerifier;

  beforeAll(async () => {
    licensing = await FakeLicensingServer.start();
    verifier = new OnlinePoeVerifier({ introspectUrl: licensing.url, timeoutMs: 500 });
  });
  afterEach(async () => {
    licensing.failAll(undefined);
    await licensing.restart();
  });
  afterAll(async () => {
    verifier.close();
    await licensing.stop();
  });

  describe('when Licensing answers a decision', () => {
    it('maps the contract fields of an active licence', async () => {
      const poe = await licensing.issue({
        tenant: 't',
        installation: 'i',
        plan: 'pro',
        valid_release_year: 2026,
        max_version: '2.0.0-rc.1',
        limits: { qps: 5, concurrency: 2 },
      });
      await expect(verifier.verify({ format: 'jwt', value: poe })).resolves.toEqual(
        activeDevLicence('2.0.0-rc.1', { qps: 5, concurrency: 2 }),
      );
      expect(licensing.callsFor(poe)).toBe(1);
    });

    it('reports a revoked licence as Licensing states it', async () => {
      const poe = await licensing.issue({ license_id: 'lic-revoked' });
      licensing.revoke('lic-revoked');
      await expect(verifier.verify({ format: 'jwt', value: poe })).resolves.toMatchObject({
        active: true,
        revoked: true,
      });
    });

    it('keeps the claims of an inactive licence', async () => {
      const poe = await licensing.issue({ active: false });
      await expect(verifier.verify({ format: 'jwt', value: poe })).resolves.toMatchObject({
        active: false,
        licenseId: 'lic-dev-0001',
      });
    });

    it('refuses a PoE Licensing does not know with entitlement_denied', async () => {
      const rogue = 'eyJhbGciOiJFUzI1NiJ9.eyJhY3RpdmUiOnRydWV9.c2lnbmF0dXJl';
      const error = await refusal(verifier.verify({ format: 'jwt', value: rogue }));
      expect(error.code).toBe('entitlement_denied');
      expect(error.message).not.toContain(rogue);
    });
  });

  describe('when the PoE is the mTLS client certificate', () => {
    it('introspects the base64url SHA-256 fingerprint of the DER', async () => {
      const der = randomBytes(512);
      licensing.bindCertificate(der, { license_id: 'lic-mtls', tenant: 't', plan: 'pro', active: true }, 2e9);
      await expect(verifier.verify({ format: 'mtls', clientCertificate: der })).resolves.toMatchObject({
        licenseId: 'lic-mtls',
        active: true,
      });
      const fingerprint = createHash('sha256').update(der).digest('base64url');
      expect(licensing.introspections.at(-1)).toEqual({
        format: 'mtls',
        poeSha256: createHash('sha256').update(fingerprint).digest('hex'),
      });
    });

    it('refuses without asking Licensing when no certificate was presented', async () => {
      const before = licensing.introspections.length;
      expect((await refusal(verifier.verify({ format: 'mtls' }))).code).toBe('entitlement_denied');
      expect(licensing.introspections).toHaveLength(before);
    });
  });

  describe('when the connection fails', () => {
    it('retries once and succeeds', async () => {
      const poe = await licensing.issue({ license_id: 'lic-retry' });
      licensing.failNext({ kind: 'hang-up' });
      await expect(verifier.verify({ format: 'jwt', value: poe })).resolves.toMatchObject({
        licenseId: 'lic-retry',
      });
      expect(licensing.callsFor(poe)).toBe(2);
    });

    it('gives up after the one retry with upstream_unavailable', async () => {
      const poe = await licensing.issue();
      licensing.failNext({ kind: 'hang-up' }, 2);
      const error = await refusal(verifier.verify({ format: 'jwt', value: poe }));
      expect(error).toMatchObject({
        code: 'upstream_unavailable',
        upstream: 'licensing',
        retryAfterSeconds: 5,
      });
      expect(licensing.callsFor(poe)).toBe(2);
      licensing.failAll(undefined);
    });

    it('answers upstream_unavailable with Retry-After when Licensing refuses connections', async () => {
      await licensing.stop();
      const error = await refusal(verifier.verify({ format: 'jwt', value: await licensing.issue() }));
      expect(error).toMatchObject({
        code: 'upstream_unavailable',
        upstream: 'licensing',
        retryAfterSeconds: 5,
      });
      expect(error.message).toContain('ECONNREFUSED');
    });
  });

  describe('when Licensing is slow', () => {
    it('times out after timeoutMs without retrying', async () => {
      const poe = await licensing.issue();
      licensing.failNext({ kind: 'slow', delayMs: 1500 });
      const error = await refusal(verifier.verify({ format: 'jwt', value: poe }));
      expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'licensing' });
      expect(error.message).toContain('deadline');
      expect(licensing.callsFor(poe)).toBe(1);
    });
  });

  describe('when Licensing answers an error status', () => {
    it.each([
      { status: 500, retryAfter: undefined, expected: 5 },
      { status: 503, retryAfter: '30', expected: 30 },
      { status: 429, retryAfter: '100000', expected: 300 },
      { status: 404, retryAfter: undefined, expected: 5 },
      { status: 400, retryAfter: undefined, expected: 5 },
    ])(
      'refuses HTTP $status as upstream_unavailable, Retry-After $expected, no retry',
      async ({ status, retryAfter, expected }) => {
        const poe = await licensing.issue();
        licensing.failNext({ kind: 'status', status, retryAfter });
        const error = await refusal(verifier.verify({ format: 'jwt', value: poe }));
        expect(error).toMatchObject({ code: 'upstream_unavailable', retryAfterSeconds: expected });
        expect(licensing.callsFor(poe)).toBe(1);
      },
    );
  });

  describe('when the answer is not a well-formed decision', () => {
    it.each([
      ['not JSON', '<html>gateway</html>'],
      ['an array', '[]'],
      ['no active', '{"license_id":"l","tenant":"t","plan":"p","exp":2000000000}'],
      ['active not a boolean', '{"active":"true","license_id":"l","tenant":"t","plan":"p","exp":2000000000}'],
      ['active without license_id', '{"active":true,"tenant":"t","plan":"p","exp":2000000000}'],
      ['active without exp', '{"active":true,"license_id":"l","tenant":"t","plan":"p"}'],
      [
        'revoked not a boolean',
        '{"active":true,"revoked":"no","license_id":"l","tenant":"t","plan":"p","exp":2e9}',
      ],
      ['oversized', JSON.stringify({ active: true, padding: 'x'.repeat(70_000) })],
    ])('fails closed on %s with upstream_unavailable (not cached as a denial)', async (_name, body) => {
      licensing.failNext({ kind: 'malformed', body });
      const error = await refusal(verifier.verify({ format: 'jwt', value: await licensing.issue() }));
      expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'licensing' });
    });

    it('treats a bare { active: false } as a denial', async () => {
      licensing.failNext({ kind: 'malformed', body: '{"active":false}' });
      const error = await refusal(verifier.verify({ format: 'jwt', value: await licensing.issue() }));
      expect(error.code).toBe('entitlement_denied');
    });
  });

  describe('when /readyz probes Licensing', () => {
    it('resolves while it listens and rejects once it is down', async () => {
      await expect(verifier.reachable()).resolves.toBeUndefined();
      await licensing.stop();
      await expect(verifier.reachable()).rejects.toBeDefined();
    });
  });

  describe('when the URL is not http(s)', () => {
    it('throws a RangeError at construction', () => {
      expect(() => new OnlinePoeVerifier({ introspectUrl: 'ftp://licensing/introspect' })).toThrow(
        RangeError,
      );
    });
  });

  describe('when the URL would carry the PoE in clear off loopback, or carries credentials', () => {
    it.each([
      ['http://licensing.example/introspect', /licensing\.introspectUrl: expected https/],
      ['http://10.0.0.7:8080/introspect', /licensing\.introspectUrl: expected https/],
      ['https://user:pw@licensing.example/introspect', /licensing\.introspectUrl: expected no credentials/],
    ])('refuses %s at construction', (introspectUrl, message) => {
      expect(() => new OnlinePoeVerifier({ introspectUrl })).toThrow(message);
    });
    it.each(['https://licensing.example/introspect', 'http://localhost:9000/introspect'])(
      'accepts %s',
      (introspectUrl) => {
        expect(() => new OnlinePoeVerifier({ introspectUrl }).close()).not.toThrow();
      },
    );
  });

  describe('when Licensing redirects to another origin', () => {
    let proxy: RedirectingProxy;
    let redirected: OnlinePoeVerifier;

    beforeAll(async () => {
      proxy = await RedirectingProxy.start(new URL(licensing.url).origin);
      redirected = new OnlinePoeVerifier({ introspectUrl: `${proxy.url}${INTROSPECT_PATH}`, timeoutMs: 500 });
    });
    afterAll(async () => {
      redirected.close();
      await proxy.close();
    });

    it.each([301, 302, 303, 307, 308])(
      'does not follow a %i: the PoE never reaches the Location, upstream_unavailable',
      async (status) => {
        const poe = await licensing.issue();
        proxy.redirect(status);
        const error = await refusal(redirected.verify({ format: 'jwt', value: poe }));
        expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'licensing' });
        expect(error.message).toMatch(`redirect (HTTP ${status}), not followed`);
        expect(proxy.redirected().at(-1)?.answer).toBe(status);
        expect(licensing.callsFor(poe)).toBe(0);
      },
    );
  });

  describe('when Licensing streams an answer without end', () => {
    const bound = 64 * 1024 * 1024;
    let endless: EndlessBodyServer;
    let streamed: OnlinePoeVerifier;

    beforeAll(async () => {
      endless = await EndlessBodyServer.start({ boundBytes: bound });
      streamed = new OnlinePoeVerifier({
        introspectUrl: `${endless.url}${INTROSPECT_PATH}`,
        timeoutMs: 10_000,
      });
    });
    afterAll(async () => {
      streamed.close();
      await endless.close();
    });

    it('stops at maxResponseBytes, hangs up and answers upstream_unavailable', async () => {
      const error = await refusal(streamed.verify({ format: 'jwt', value: await licensing.issue() }));
      expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'licensing' });
      expect(error.message).toMatch(/larger than allowed/);
      const answer = await endless.answerEnded();
      expect(answer.outcome).toBe('client-closed');
      expect(answer.written).toBeLessThan(bound / 4);
    });
  });
});

describe('parseRetryAfter', () => {
  describe('when given seconds or an HTTP date', () => {
    it.each([
      ['7', 7],
      ['0', 1],
      ['999999', 300],
      ['Thu, 01 Jan 2026 00:00:10 GMT', 10],
      ['soon', undefined],
      [undefined, undefined],
    ])('reads %s as %s', (value, expected) => {
      expect(parseRetryAfter(value, Date.parse('2026-01-01T00:00:00Z'))).toBe(expected);
    });
  });
});
