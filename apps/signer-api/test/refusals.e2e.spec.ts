import { DpopKey } from '@signer/client';
import { expectProblem } from './problem';
import { Caller, SIGN_PATH, startHarness, validBody, type Harness } from './harness';
import { decodeClaims, hmacWithPublicKey, unsecuredJwt } from './hostile-tokens';

const secrets: string[] = [];

describe('POST /api/v1/signer/sign/dsse refusals', () => {
  let harness: Harness;
  let caller: Caller;

  beforeAll(async () => {
    harness = await startHarness();
    caller = await Caller.create(harness);
    secrets.push(caller.token, harness.poe);
  });

  afterAll(async () => {
    // Every refusal above was audited, and no secret ever reached a response, log line or audit record.
    const audit = harness.auditLines();
    const logs = harness.logs.lines.join('\n');
    const trail = JSON.stringify(audit);
    for (const secret of secrets) {
      expect(logs).not.toContain(secret);
      expect(trail).not.toContain(secret);
    }
    await harness.close();
  });

  const raw = (payload: string, headers: Record<string, string>) =>
    harness.app.inject({ method: 'POST', url: SIGN_PATH, payload, headers });

  describe('when the body is hostile', () => {
    it('refuses malformed JSON with 400 invalid_request', async () => {
      const body = expectProblem(
        await raw('{"subject": [', { 'content-type': 'application/json' }),
        400,
        'invalid_request',
      );
      expect(
        harness
          .auditLines()
          .some((r) => r['auditId'] === body['auditId'] && r['outcome'] === 'invalid_request'),
      ).toBe(true);
    });
    it('refuses a non-JSON content type with 415 invalid_request', async () => {
      expectProblem(await raw('subject=1', { 'content-type': 'text/plain' }), 415, 'invalid_request');
    });
    it('refuses a body over server.bodyLimitBytes with 413 artifact_too_large', async () => {
      const huge = JSON.stringify({ ...validBody(harness), predicate: { blob: 'x'.repeat(1_100_000) } });
      expectProblem(await raw(huge, { 'content-type': 'application/json' }), 413, 'artifact_too_large');
    });
    it.each([
      ['wrong types', { subject: 'all' }, 'subject'],
      [
        '1,025 subjects',
        {
          subject: Array.from({ length: 1025 }, (_, i) => ({
            name: `s${i}`,
            digest: { sha256: 'a'.repeat(64) },
          })),
        },
        'subject',
      ],
      ['a non-hex digest', { subject: [{ name: 'x', digest: { sha256: 'z'.repeat(64) } }] }, 'sha256'],
      ['a bad scanner digest', { scannerImageDigest: 'sha256:abc' }, 'scannerImageDigest'],
      ['an unknown field', { extra: true }, 'extra'],
      ['a predicate that is not an object', { predicate: [1, 2] }, 'predicate'],
      ['a jwt PoE without value', { poe: { format: 'jwt' } }, 'poe.value'],
    ])('refuses %s with 400 naming the field', async (_name, overrides, field) => {
      const body = expectProblem(await caller.sign(validBody(harness, overrides)), 400, 'invalid_request');
      expect(body['detail']).toContain(field);
    });
  });

  describe('when the OpTok is not acceptable', () => {
    it('refuses a missing token with 401 and a bare DPoP challenge (RFC 6750 §3.1: no error code)', async () => {
      const response = await raw(JSON.stringify(validBody(harness)), { 'content-type': 'application/json' });
      expectProblem(response, 401, 'invalid_token');
      expect(response.headers['www-authenticate']).toMatch(/^DPoP algs="/);
      expect(response.headers['www-authenticate']).not.toContain('error=');
    });
    it('names the error in the challenge when a token was presented', async () => {
      const response = await raw(JSON.stringify(validBody(harness)), {
        'content-type': 'application/json',
        authorization: 'DPoP not-a-token',
      });
      expectProblem(response, 401, 'invalid_token');
      expect(response.headers['www-authenticate']).toMatch(/^DPoP error="invalid_token"/);
    });
    it('refuses alg none', async () => {
      const token = unsecuredJwt(decodeClaims(caller.token));
      const proof = await caller.proof('POST', SIGN_PATH);
      const response = await raw(JSON.stringify(validBody(harness)), {
        'content-type': 'application/json',
        authorization: `DPoP ${token}`,
        dpop: proof,
      });
      expectProblem(response, 401, 'invalid_token');
    });
    it('refuses HS256 signed with the Authority public key', async () => {
      const token = hmacWithPublicKey(
        decodeClaims(caller.token),
        JSON.stringify(harness.authority.publicJwk),
        harness.authority.kid,
      );
      const response = await raw(JSON.stringify(validBody(harness)), {
        'content-type': 'application/json',
        authorization: `DPoP ${token}`,
        dpop: await caller.proof('POST', SIGN_PATH),
      });
      expectProblem(response, 401, 'invalid_token');
    });
    it('refuses a token with no sender binding', async () => {
      const unbound = await harness.authority.mint({
        tenant: harness.profile.tenant,
        installation: harness.profile.installation,
      });
      secrets.push(unbound);
      const response = await raw(JSON.stringify(validBody(harness)), {
        'content-type': 'application/json',
        authorization: `Bearer ${unbound}`,
      });
      expectProblem(response, 401, 'invalid_token');
    });
    it('refuses an expired token', async () => {
      const expired = await Caller.create(harness, {
        now: Math.floor(Date.now() / 1000) - 3600,
        lifetimeSeconds: 60,
      });
      expectProblem(await expired.sign(validBody(harness)), 401, 'invalid_token');
    });
  });

  describe('when the DPoP proof is not acceptable', () => {
    it('asks for a nonce first with use_dpop_nonce and a DPoP-Nonce header', async () => {
      const fresh = await Caller.create(harness);
      const response = await raw(JSON.stringify(validBody(harness)), {
        'content-type': 'application/json',
        authorization: `DPoP ${fresh.token}`,
        dpop: await fresh.proof('POST', SIGN_PATH, { nonce: null }),
      });
      expectProblem(response, 401, 'use_dpop_nonce');
      expect(response.headers['www-authenticate']).toMatch(/^DPoP error="use_dpop_nonce"/);
      expect(response.headers['dpop-nonce']).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    });
    it('refuses a missing proof with invalid_dpop_proof', async () => {
      const response = await raw(JSON.stringify(validBody(harness)), {
        'content-type': 'application/json',
        authorization: `DPoP ${caller.token}`,
      });
      expectProblem(response, 401, 'invalid_dpop_proof');
    });
    it('refuses a proof whose jwk carries the private key', async () => {
      await caller.sign(validBody(harness)); // learn a nonce
      const privateJwk = await caller.key.toPrivateJwk();
      const leaky = await DpopKey.fromPrivateJwk(privateJwk);
      Object.assign(leaky.publicJwk, { d: privateJwk.d });
      const proof = await leaky.proof({
        method: 'POST',
        url: `${harness.runtime.publicBaseUrl}${SIGN_PATH}`,
        accessToken: caller.token,
      });
      const response = await raw(JSON.stringify(validBody(harness)), {
        'content-type': 'application/json',
        authorization: `DPoP ${caller.token}`,
        dpop: proof,
      });
      expectProblem(response, 401, 'invalid_dpop_proof');
    });
    it('refuses a replayed jti', async () => {
      await caller.sign(validBody(harness)); // learn a nonce
      const proof = await caller.proof('POST', SIGN_PATH);
      const send = () =>
        raw(JSON.stringify(validBody(harness)), {
          'content-type': 'application/json',
          authorization: `DPoP ${caller.token}`,
          dpop: proof,
        });
      expect((await send()).statusCode).toBe(200);
      expectProblem(await send(), 401, 'invalid_dpop_proof');
    });
    it('refuses a proof for another URL', async () => {
      await caller.sign(validBody(harness));
      const proof = await caller.proof('POST', '/api/v1/signer/keys');
      const response = await raw(JSON.stringify(validBody(harness)), {
        'content-type': 'application/json',
        authorization: `DPoP ${caller.token}`,
        dpop: proof,
      });
      expectProblem(response, 401, 'invalid_dpop_proof');
    });
    it('refuses a proof signed by a key other than cnf.jkt', async () => {
      const other = await DpopKey.generate();
      await caller.sign(validBody(harness));
      const nonce = (await caller.proof('POST', SIGN_PATH)).split('.')[1];
      const proof = await other.proof({
        method: 'POST',
        url: `${harness.runtime.publicBaseUrl}${SIGN_PATH}`,
        accessToken: caller.token,
        nonce: (JSON.parse(Buffer.from(nonce, 'base64url').toString()) as { nonce: string }).nonce,
      });
      const response = await raw(JSON.stringify(validBody(harness)), {
        'content-type': 'application/json',
        authorization: `DPoP ${caller.token}`,
        dpop: proof,
      });
      expectProblem(response, 401, 'invalid_dpop_proof');
    });
  });

  describe('when the caller is not entitled', () => {
    it('refuses a token without signer.sign with 403 insufficient_scope', async () => {
      const reader = await Caller.create(harness, { scope: 'signer.read' });
      const response = await reader.sign(validBody(harness));
      expectProblem(response, 403, 'insufficient_scope');
      expect(response.headers['www-authenticate']).toContain('scope="signer.sign"');
    });
    it('refuses another tenant with 403 tenant_mismatch', async () => {
      const stranger = await Caller.create(harness, { tenant: 'tenant-other' });
      expectProblem(await stranger.sign(validBody(harness)), 403, 'tenant_mismatch');
    });
    it.each([
      ['revoked', { revoked: true }],
      ['inactive', { active: false }],
      ['release year after the window', { valid_release_year: 2024 }],
      ['release version above max_version', { max_version: '1.4.1' }],
      ['unknown plan', { plan: 'platinum' }],
    ])('refuses a %s PoE with 403 entitlement_denied', async (_name, claims) => {
      const poe = await harness.licensing.mintPoe({
        tenant: harness.profile.tenant,
        installation: harness.profile.installation,
        ...claims,
      });
      secrets.push(poe);
      expectProblem(
        await caller.sign(validBody(harness, { poe: { format: 'jwt', value: poe } })),
        403,
        'entitlement_denied',
      );
    });
    it('refuses a PoE not signed by Licensing', async () => {
      const forged = `${harness.poe.slice(0, -10)}AAAAAAAAAA`;
      expectProblem(
        await caller.sign(validBody(harness, { poe: { format: 'jwt', value: forged } })),
        403,
        'entitlement_denied',
      );
    });
  });

  describe('when the request itself is not allowed', () => {
    it('refuses an unsigned scanner image with 403 release_untrusted', async () => {
      expectProblem(
        await caller.sign(validBody(harness, { scannerImageDigest: `sha256:${'0'.repeat(64)}` })),
        403,
        'release_untrusted',
      );
    });
    it('refuses a predicate type not allowed with 422 predicate_unsupported', async () => {
      expectProblem(
        await caller.sign(validBody(harness, { predicateType: 'https://evil.example/p' })),
        422,
        'predicate_unsupported',
      );
    });
    it("refuses a statement over the plan's maxArtifactBytes with 413", async () => {
      const poe = await harness.licensing.mintPoe({
        tenant: harness.profile.tenant,
        installation: harness.profile.installation,
        license_id: 'lic-small',
        limits: { maxArtifactBytes: 200 },
      });
      expectProblem(
        await caller.sign(validBody(harness, { poe: { format: 'jwt', value: poe } })),
        413,
        'artifact_too_large',
      );
    });
    it('refuses an unknown keyId with 400', async () => {
      expectProblem(
        await caller.sign(validBody(harness, { options: { keyId: 'nope' } })),
        400,
        'invalid_request',
      );
    });
  });

  describe('when refusals happen around the quota gate', () => {
    it('leaves no concurrency slot held: a one-slot licence still signs afterwards', async () => {
      const poe = await harness.licensing.mintPoe({
        tenant: harness.profile.tenant,
        installation: harness.profile.installation,
        license_id: 'lic-one-slot',
        limits: { qps: 1000, burst: 1000, concurrency: 1 },
      });
      const body = (overrides: Record<string, unknown> = {}) =>
        validBody(harness, { poe: { format: 'jwt', value: poe }, ...overrides });
      expectProblem(await caller.sign(body({ predicateType: 'x' })), 422, 'predicate_unsupported');
      expectProblem(await caller.sign(body({ options: { keyId: 'nope' } })), 400, 'invalid_request');
      expectProblem(
        await caller.sign(body({ scannerImageDigest: `sha256:${'1'.repeat(64)}` })),
        403,
        'release_untrusted',
      );
      for (let i = 0; i < 3; i += 1) expect((await caller.sign(body())).statusCode).toBe(200);
    });
  });

  describe('when the plan limits are reached', () => {
    it('answers 429 plan_throttled with Retry-After, and releases every slot', async () => {
      const poe = await harness.licensing.mintPoe({
        tenant: harness.profile.tenant,
        installation: harness.profile.installation,
        license_id: 'lic-tiny',
        limits: { qps: 1, burst: 1, concurrency: 1 },
      });
      const body = validBody(harness, { poe: { format: 'jwt', value: poe } });
      expect((await caller.sign(body)).statusCode).toBe(200);
      const throttled = await caller.sign(body);
      expectProblem(throttled, 429, 'plan_throttled');
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const metrics = (await harness.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/signer_quota_throttled_total\{limit="qps"\} 1/);
    });
  });
});
