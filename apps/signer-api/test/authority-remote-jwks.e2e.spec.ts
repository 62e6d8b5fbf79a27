import { DpopKey } from '@signer/client';
import { DevAuthority, type OpTokClaims } from '@signer/dev';
import { AuthorityEndpoint } from '@signer/testing';
import { adminReadyz } from './admin-readyz';
import { AuthorityHarness, discoveryOptions, expectRefusal } from './authority-harness';

jest.setTimeout(30_000);

/**
 * The Signer connected to an Authority over HTTP (OIDC discovery on `authority.issuer`), through
 * the real app: key rotation, the verified-token cache following a rotation, and an Authority outage.
 */
describe('Authority keys over HTTP (discovery, rotation, outage)', () => {
  let endpoint: AuthorityEndpoint;
  let h: AuthorityHarness;
  let first: DevAuthority;
  let next: DevAuthority;

  beforeAll(async () => {
    endpoint = await AuthorityEndpoint.start();
    next = await DevAuthority.create('authority-2027');
    h = await AuthorityHarness.start(discoveryOptions(endpoint.origin, (jwks) => (endpoint.jwks = jwks)));
    first = h.authority;
  });
  afterAll(async () => {
    await h.close();
    await endpoint.close();
  });

  /** One DPoP request with a fresh proof and nonce, for a token (so a cached token can be replayed). */
  const signWith = async (key: DpopKey, token: string) =>
    h.post(h.body(await h.poe({ qps: 100, burst: 100, concurrency: 4, dailyCap: 100 })), {
      authorization: `DPoP ${token}`,
      dpop: await h.proof(key, token, { nonce: await h.nonce() }),
    });
  const caller = async (authority: DevAuthority, claims: OpTokClaims = {}) => {
    const key = await DpopKey.generate();
    return { key, token: await authority.mint({ ...claimsNow(), jkt: key.thumbprint, ...claims }) };
  };
  const claimsNow = (): OpTokClaims => ({
    issuer: endpoint.origin,
    tenant: h.profile.tenant,
    installation: h.profile.installation,
    now: h.clock.seconds(),
  });
  const readyz = async () => h.app.inject({ method: 'GET', url: '/readyz' });
  const optokCacheHits = async () => {
    const text = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    return Number(/signer_cache_hits_total\{cache="optok"\} (\d+)/.exec(text)?.[1] ?? 0);
  };

  describe('when the Signer starts with only authority.issuer', () => {
    it('discovers jwks_uri, fetches the keys once, is ready and signs', async () => {
      const { key, token } = await caller(first);
      expect((await signWith(key, token)).statusCode).toBe(200);
      // The same token again: answered by the verified-token cache, only the new proof is verified.
      const hitsBefore = await optokCacheHits();
      expect((await signWith(key, token)).statusCode).toBe(200);
      expect(await optokCacheHits()).toBe(hitsBefore + 1);
      expect((await adminReadyz(h.runtime)).body).toMatchObject({ dependencies: { 'authority-keys': 'ok' } });
      expect(endpoint.count('/.well-known/openid-configuration')).toBe(1);
      expect(endpoint.count('/jwks.json')).toBe(1);
    });
  });

  describe('when the Authority rotates its signing key', () => {
    let retired: { key: DpopKey; token: string };

    it('accepts the new kid after one refetch, and the old key during the overlap', async () => {
      retired = await caller(first);
      expect((await signWith(retired.key, retired.token)).statusCode).toBe(200);
      endpoint.jwks = { keys: [...first.jwks().keys, ...next.jwks().keys] };
      h.clock.advanceSeconds(31); // past the refetch cooldown
      h.authority = next;

      const fresh = await caller(next);
      expect((await signWith(fresh.key, fresh.token)).statusCode).toBe(200);
      expect((await signWith(retired.key, retired.token)).statusCode).toBe(200);
      expect(endpoint.count('/jwks.json')).toBe(2);
    });

    it('refuses the retired key after the next refresh, even for a token it had verified and cached', async () => {
      endpoint.jwks = next.jwks();
      h.clock.advanceSeconds(301); // the keys are due for refresh; the next use starts it
      const stranger = await caller(await DevAuthority.create('never-published'));
      const meanwhile = await signWith(stranger.key, stranger.token); // waits for that refresh
      expect(meanwhile.statusCode).toBe(401);
      expect(endpoint.count('/jwks.json')).toBe(3);

      expectRefusal(h, await signWith(retired.key, retired.token), {
        status: 401,
        code: 'invalid_token',
        scheme: 'DPoP',
        reason: /no key matches the kid/,
      });
      const current = await caller(next);
      expect((await signWith(current.key, current.token)).statusCode).toBe(200);
    });
  });

  describe('when the Authority is down', () => {
    it('keeps signing with the known keys, and answers 503 for a kid it cannot look up', async () => {
      endpoint.mode = 'fail';
      h.clock.advanceSeconds(301);
      const known = await caller(next);
      expect((await signWith(known.key, known.token)).statusCode).toBe(200);
      const unknown = await caller(await DevAuthority.create('authority-2028'));
      h.clock.advanceSeconds(31);
      const response = await signWith(unknown.key, unknown.token);
      expectRefusal(h, response, { status: 503, code: 'upstream_unavailable' });
      expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((await readyz()).statusCode).toBe(200);
    });

    it('stops trusting the known keys after maxStaleSeconds: 503 and not ready, until it is back', async () => {
      h.clock.advanceSeconds(3601);
      const known = await caller(next);
      // No nonce dance: the OpTok gate answers before the proof is looked at.
      const refused = await h.post(h.body(await h.poe()), {
        authorization: `DPoP ${known.token}`,
        dpop: await h.proof(known.key, known.token),
      });
      expectRefusal(h, refused, { status: 503, code: 'upstream_unavailable' });
      const notReady = await readyz();
      expect(notReady.statusCode).toBe(503);
      expect((await adminReadyz(h.runtime)).body).toMatchObject({
        dependencies: { 'authority-keys': 'unavailable' },
      });

      endpoint.mode = 'serve';
      h.clock.advanceSeconds(31);
      expect((await readyz()).statusCode).toBe(200);
      expect((await signWith(known.key, known.token)).statusCode).toBe(200);
    });
  });
});
