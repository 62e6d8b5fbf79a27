import { createHash, randomUUID } from 'node:crypto';
import { DpopKey } from '@signer/client';
import type { OpTokClaims } from '@signer/dev';
import type { LightMyRequestResponse } from 'fastify';
import {
  AuthorityHarness,
  craftProof,
  expectRefusal,
  SIGN_PATH,
  tinyLimits,
  type RefusalExpectation,
} from './authority-harness';
import { decodeClaims, hmacWithPublicKey, unsecuredJwt } from './hostile-tokens';

jest.setTimeout(30_000);

const NONCE_TTL_SECONDS = 60;
const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * The caller-authentication negative matrix of issue 3, one test per row, through the real app.
 * Each row asserts status, `code`, the challenge RFC 9449 / RFC 6750 require, the audit record of
 * the refusal, that nothing was signed, and — by signing once with the row's own single-signature
 * PoE afterwards — that the refusal consumed nothing of the plan.
 */
describe('caller authentication negative matrix', () => {
  let h: AuthorityHarness;
  const secrets: string[] = [];

  beforeAll(async () => {
    h = await AuthorityHarness.start({
      env: { SIGNER__AUTHORITY__DPOP__NONCETTLSECONDS: String(NONCE_TTL_SECONDS) },
    });
  });
  afterAll(async () => {
    const logs = h.logs.lines.join('\n');
    const audit = JSON.stringify(h.auditLines());
    for (const secret of secrets) {
      expect(logs).not.toContain(secret);
      expect(audit).not.toContain(secret);
    }
    await h.close();
  });

  /** A caller key and a token bound to it (`cnf.jkt`), with any claim changed. */
  const bound = async (claims: OpTokClaims = {}) => {
    const key = await DpopKey.generate();
    const token = await h.mint({ jkt: key.thumbprint, ...claims });
    secrets.push(token);
    return { key, token };
  };
  /** Headers of a DPoP request whose proof is right for `token` (and carries a current nonce). */
  const dpopHeaders = async (
    token: string,
    key: DpopKey,
    proof: Parameters<AuthorityHarness['proof']>[2] = {},
  ) => ({
    authorization: `DPoP ${token}`,
    dpop: await h.proof(key, token, { nonce: await h.nonce(), ...proof }),
  });
  const proofClaims = async (token: string) => ({
    htm: 'POST',
    htu: h.signUrl,
    iat: h.clock.seconds(),
    jti: randomUUID(),
    ath: ath(token),
    nonce: await h.nonce(),
  });

  /** Sends the row's request with its own PoE, checks the refusal, then proves nothing was consumed. */
  const expectRow = async (
    expectation: RefusalExpectation,
    send: (poe: string) => Promise<LightMyRequestResponse>,
    options: { limits?: Record<string, number>; prepare?: (poe: string) => Promise<void> } = {},
  ) => {
    const poe = await h.poe(options.limits ?? tinyLimits());
    secrets.push(poe);
    await options.prepare?.(poe);
    const signedBefore = h.signedCount();
    expectRefusal(h, await send(poe), expectation);
    expect(h.signedCount()).toBe(signedBefore);
    expect((await h.signAsValidCaller(poe)).statusCode).toBe(200);
  };
  // `reason` is matched against the operator log line of the refusal: the row fails for its own cause.
  const invalidToken = (reason: RegExp): RefusalExpectation => ({
    status: 401,
    code: 'invalid_token',
    scheme: 'DPoP',
    reason,
  });
  const invalidProof = (reason: RegExp): RefusalExpectation => ({
    status: 401,
    code: 'invalid_dpop_proof',
    scheme: 'DPoP',
    reason,
  });
  const useNonce = (reason: RegExp): RefusalExpectation => ({
    status: 401,
    code: 'use_dpop_nonce',
    scheme: 'DPoP',
    reason,
  });
  const withToken = (claims: OpTokClaims) => async (poe: string) => {
    const { key, token } = await bound(claims);
    return h.post(h.body(poe), await dpopHeaders(token, key));
  };
  const withRawToken = (make: (valid: string) => string) => async (poe: string) => {
    const { key, token } = await bound();
    const hostile = make(token);
    return h.post(h.body(poe), await dpopHeaders(hostile, key));
  };
  const withProof = (make: (key: DpopKey, token: string) => Promise<string>) => async (poe: string) => {
    const { key, token } = await bound();
    return h.post(h.body(poe), { authorization: `DPoP ${token}`, dpop: await make(key, token) });
  };

  describe('when the OpTok is not acceptable', () => {
    it('refuses a missing token with a DPoP challenge', () =>
      expectRow({ ...invalidToken(/Authorization header, got none/), challengeNamesError: false }, (poe) =>
        h.post(h.body(poe), {}),
      ));
    it('refuses a malformed JWT', () =>
      expectRow(
        invalidToken(/canonical compact JWS/),
        withRawToken(() => 'not-a-jwt'),
      ));
    it('refuses alg none', () =>
      expectRow(
        invalidToken(/canonical compact JWS/),
        withRawToken((valid) => unsecuredJwt(decodeClaims(valid))),
      ));
    it('refuses HS256 signed with the Authority public key as secret', () =>
      expectRow(
        invalidToken(/algorithm not allowed/),
        withRawToken((valid) =>
          hmacWithPublicKey(decodeClaims(valid), JSON.stringify(h.authority.publicJwk), h.authority.kid),
        ),
      ));
    it('refuses an unknown kid', () =>
      expectRow(invalidToken(/no key matches the kid/), withToken({ kid: 'rotated-away' })));
    it('refuses a wrong iss', () =>
      expectRow(invalidToken(/claim iss failed/), withToken({ issuer: 'https://evil.example' })));
    it('refuses a wrong aud', () =>
      expectRow(invalidToken(/claim aud failed/), withToken({ audience: 'scanner' })));
    it('refuses a multi-audience token without signer', () =>
      expectRow(invalidToken(/claim aud failed/), withToken({ audience: ['scanner', 'attestor'] })));
    it('refuses an expired token', () =>
      expectRow(
        invalidToken(/token expired/),
        withToken({ now: h.clock.seconds() - 3600, lifetimeSeconds: 300 }),
      ));
    it('refuses nbf in the future beyond the skew', () =>
      expectRow(invalidToken(/claim nbf failed/), withToken({ notBefore: h.clock.seconds() + 120 })));
    it('refuses a token without scope signer.sign (403 insufficient_scope naming the scope)', async () => {
      await expectRow(
        { status: 403, code: 'insufficient_scope', scheme: 'DPoP', reason: /expected scope signer\.sign/ },
        async (poe) => {
          const response = await withToken({ extra: { scope: undefined } })(poe);
          expect(response.headers['www-authenticate']).toContain('scope="signer.sign"');
          return response;
        },
      );
    });
    it('refuses a token without tid', () =>
      expectRow(invalidToken(/expected claim tid/), withToken({ extra: { tid: undefined } })));
    it('refuses a token without cnf', async () => {
      await expectRow(invalidToken(/unbound token/), async (poe) => {
        const key = await DpopKey.generate();
        const unbound = await h.mint({});
        secrets.push(unbound);
        return h.post(h.body(poe), await dpopHeaders(unbound, key));
      });
    });
  });

  describe('when the DPoP proof is not acceptable', () => {
    it('refuses a missing proof', () =>
      expectRow(invalidProof(/expected a DPoP header/), async (poe) => {
        const { token } = await bound();
        return h.post(h.body(poe), { authorization: `DPoP ${token}` });
      }));
    it('refuses a wrong typ', () =>
      expectRow(
        invalidProof(/expected typ dpop\+jwt/),
        withProof(async (key, token) => craftProof(key, { typ: 'JWT' }, await proofClaims(token))),
      ));
    it('refuses a private key in the header jwk', () =>
      expectRow(
        invalidProof(/private key material/),
        withProof(async (key, token) => {
          const { d } = await key.toPrivateJwk();
          return craftProof(key, { jwk: { ...key.publicJwk, d } }, await proofClaims(token));
        }),
      ));
    it('refuses an htm mismatch', () =>
      expectRow(
        invalidProof(/expected htm POST, got GET/),
        withProof(async (key, token) => h.proof(key, token, { method: 'GET', nonce: await h.nonce() })),
      ));
    it('refuses an htu for another path', () =>
      expectRow(
        invalidProof(/expected htu/),
        withProof(async (key, token) =>
          h.proof(key, token, {
            url: `${h.runtime.publicBaseUrl}/api/v1/signer/keys`,
            nonce: await h.nonce(),
          }),
        ),
      ));
    it('refuses an htu for another host', () =>
      expectRow(
        invalidProof(/expected htu/),
        withProof(async (key, token) =>
          h.proof(key, token, { url: `https://evil.example${SIGN_PATH}`, nonce: await h.nonce() }),
        ),
      ));
    it('ignores the query string of htu and of the request (accepted, signed once)', async () => {
      const { key, token } = await bound();
      const poe = await h.poe();
      const signedBefore = h.signedCount();
      const response = await h.post(
        h.body(poe),
        await dpopHeaders(token, key, { url: `${h.signUrl}?from=proof` }),
        `${SIGN_PATH}?from=request`,
      );
      expect(response.statusCode).toBe(200);
      expect(h.signedCount()).toBe(signedBefore + 1);
    });
    it('refuses an iat too old', () =>
      expectRow(
        invalidProof(/expected iat within/),
        withProof(async (key, token) =>
          h.proof(key, token, { iat: h.clock.seconds() - 120, nonce: await h.nonce() }),
        ),
      ));
    it('refuses an iat too new', () =>
      expectRow(
        invalidProof(/expected iat within/),
        withProof(async (key, token) =>
          h.proof(key, token, { iat: h.clock.seconds() + 120, nonce: await h.nonce() }),
        ),
      ));
    it('refuses a jti replayed on the same replica', async () => {
      const { key, token } = await bound();
      const headers = await dpopHeaders(token, key);
      await expectRow(invalidProof(/replayed proof/), (poe) => h.post(h.body(poe), headers), {
        limits: tinyLimits(2),
        prepare: async (poe) => {
          expect((await h.post(h.body(poe), headers)).statusCode).toBe(200);
        },
      });
    });
    it('refuses a missing ath', () =>
      expectRow(
        invalidProof(/expected ath/),
        withProof(async (key) => h.proof(key, undefined, { nonce: await h.nonce() })),
      ));
    it('refuses an ath for another token', () =>
      expectRow(
        invalidProof(/expected ath/),
        withProof(async (key) => h.proof(key, 'another.op.tok', { nonce: await h.nonce() })),
      ));
    it('refuses a proof key whose thumbprint is not cnf.jkt', () =>
      expectRow(
        invalidProof(/cnf\.jkt, got another key/),
        withProof(async (_key, token) =>
          h.proof(await DpopKey.generate(), token, { nonce: await h.nonce() }),
        ),
      ));
  });

  describe('when the DPoP nonce is not acceptable', () => {
    it('answers a proof without nonce with use_dpop_nonce and a fresh DPoP-Nonce', () =>
      expectRow(
        useNonce(/server nonce, got none/),
        withProof(async (key, token) => h.proof(key, token)),
      ));
    it('answers a stale nonce with use_dpop_nonce', () =>
      expectRow(useNonce(/stale or unknown/), async (poe) => {
        const stale = await h.nonce();
        h.clock.advanceSeconds(NONCE_TTL_SECONDS + 1);
        const { key, token } = await bound();
        return h.post(h.body(poe), {
          authorization: `DPoP ${token}`,
          dpop: await h.proof(key, token, { nonce: stale }),
        });
      }));
    it('answers a nonce from nowhere with use_dpop_nonce', () =>
      expectRow(
        useNonce(/stale or unknown/),
        withProof(async (key, token) => h.proof(key, token, { nonce: 'AAAAAAAAAAAAAAAAAAAAAA' })),
      ));
  });
});
