import { DevAuthority, DEV_AUDIENCE } from '@signer/dev';
import { AuthorityEndpoint } from '@signer/testing';
import { ManualClock } from '@signer/testing';
import { OpTokVerifier } from '../optok/optok-verifier';
import { RemoteJwks, type JwksLocation } from './remote-jwks';

const NOW = 1_900_000_000;

describe('RemoteJwks', () => {
  let server: AuthorityEndpoint;
  let clock: ManualClock;
  let oldKey: DevAuthority;
  let newKey: DevAuthority;

  beforeAll(async () => {
    [oldKey, newKey] = await Promise.all([
      DevAuthority.create('key-2026-01'),
      DevAuthority.create('key-2026-02'),
    ]);
  });
  beforeEach(async () => {
    server = await AuthorityEndpoint.start();
    server.jwks = oldKey.jwks();
    clock = new ManualClock(NOW * 1000);
  });
  afterEach(async () => {
    await server.close();
  });

  const remote = (location: JwksLocation = { jwksUri: server.jwksUri }, timeoutMs = 2000) =>
    new RemoteJwks({
      location,
      clock,
      refreshSeconds: 300,
      cooldownSeconds: 30,
      maxStaleSeconds: 3600,
      timeoutMs,
    });
  const verifierFor = (keys: RemoteJwks) =>
    new OpTokVerifier({
      getKey: keys.getKey,
      issuer: server.origin,
      audience: DEV_AUDIENCE,
      algorithms: ['ES256'],
      clockSkewSeconds: 30,
      clock,
    });
  const mint = (authority: DevAuthority, claims: Parameters<DevAuthority['mint']>[0] = {}) =>
    authority.mint({
      issuer: server.origin,
      now: Math.floor(clock.now().getTime() / 1000),
      jkt: 'j',
      ...claims,
    });

  describe('when keys come from authority.jwksUri', () => {
    it('fetches once and verifies many tokens from the cached set', async () => {
      const verifier = verifierFor(remote());
      for (let i = 0; i < 5; i += 1) await expect(verifier.verify(await mint(oldKey))).resolves.toBeDefined();
      expect(server.count('/jwks.json')).toBe(1);
    });
  });

  describe('when keys come from OIDC discovery on authority.issuer', () => {
    it('reads jwks_uri from the discovery document once, then the JWKS', async () => {
      const verifier = verifierFor(remote({ issuer: server.origin }));
      await expect(verifier.verify(await mint(oldKey))).resolves.toMatchObject({
        subject: 'svc-scanner-web',
      });
      await expect(verifier.verify(await mint(oldKey))).resolves.toBeDefined();
      expect(server.count('/.well-known/openid-configuration')).toBe(1);
      expect(server.count('/jwks.json')).toBe(1);
    });
    it('refuses a discovery document naming another issuer, as upstream_unavailable', async () => {
      server.discoveryIssuer = 'https://evil.example';
      const verifier = verifierFor(remote({ issuer: server.origin }));
      await expect(verifier.verify(await mint(oldKey))).rejects.toMatchObject({
        code: 'upstream_unavailable',
        upstream: 'authority',
      });
      expect(server.count('/jwks.json')).toBe(0);
    });
  });

  describe('when the Authority rotates its keys', () => {
    it('accepts old and new keys during the overlap, fetching once for the new kid', async () => {
      const keys = remote();
      const verifier = verifierFor(keys);
      await expect(verifier.verify(await mint(oldKey))).resolves.toBeDefined();
      clock.advanceSeconds(31);
      server.jwks = { keys: [...oldKey.jwks().keys, ...newKey.jwks().keys] };

      await expect(verifier.verify(await mint(newKey))).resolves.toBeDefined();
      await expect(verifier.verify(await mint(oldKey))).resolves.toBeDefined();
      expect(server.count('/jwks.json')).toBe(2);
    });
    it('stops accepting a removed key after the next refresh', async () => {
      server.jwks = { keys: [...oldKey.jwks().keys, ...newKey.jwks().keys] };
      const keys = remote();
      const verifier = verifierFor(keys);
      await expect(verifier.verify(await mint(oldKey))).resolves.toBeDefined();
      const generation = keys.generation;
      server.jwks = newKey.jwks();

      clock.advanceSeconds(301); // past refreshSeconds: the next use refreshes in the background
      await verifier.verify(await mint(newKey));
      await keys.settled();

      expect(keys.generation).toBe(generation + 1);
      await expect(verifier.verify(await mint(oldKey))).rejects.toMatchObject({ code: 'invalid_token' });
      await expect(verifier.verify(await mint(newKey))).resolves.toBeDefined();
    });
  });

  describe('when tokens name unknown kids', () => {
    it('refetches at most once per cooldown and refuses them with invalid_token', async () => {
      const verifier = verifierFor(remote());
      await verifier.verify(await mint(oldKey));
      clock.advanceSeconds(31);
      for (let i = 0; i < 10; i += 1) {
        await expect(verifier.verify(await mint(oldKey, { kid: `unknown-${i}` }))).rejects.toMatchObject({
          code: 'invalid_token',
        });
      }
      expect(server.count('/jwks.json')).toBe(2);
      clock.advanceSeconds(31);
      await expect(verifier.verify(await mint(oldKey, { kid: 'unknown-x' }))).rejects.toMatchObject({
        code: 'invalid_token',
      });
      expect(server.count('/jwks.json')).toBe(3);
    });
  });

  describe('when the Authority is briefly down', () => {
    it('keeps serving the known keys and retries at most once per cooldown', async () => {
      const keys = remote();
      const verifier = verifierFor(keys);
      await verifier.verify(await mint(oldKey));
      server.mode = 'fail';
      clock.advanceSeconds(301);
      for (let i = 0; i < 5; i += 1) {
        await expect(verifier.verify(await mint(oldKey))).resolves.toBeDefined();
        await keys.settled();
      }
      expect(server.count('/jwks.json')).toBe(2);
      expect(keys.hasUsableKeys()).toBe(true);
    });
    it('answers upstream_unavailable for an unknown kid it cannot look up', async () => {
      const verifier = verifierFor(remote());
      await verifier.verify(await mint(oldKey));
      server.mode = 'fail';
      clock.advanceSeconds(31);
      await expect(verifier.verify(await mint(newKey))).rejects.toMatchObject({
        code: 'upstream_unavailable',
        upstream: 'authority',
        retryAfterSeconds: 30,
      });
    });
    it('stops trusting the known keys after maxStaleSeconds', async () => {
      const keys = remote();
      const verifier = verifierFor(keys);
      await verifier.verify(await mint(oldKey));
      server.mode = 'fail';
      clock.advanceSeconds(3601);
      await expect(verifier.verify(await mint(oldKey))).rejects.toMatchObject({
        code: 'upstream_unavailable',
      });
      expect(keys.hasUsableKeys()).toBe(false);
    });
  });

  describe('when the Authority was never reached', () => {
    it('answers upstream_unavailable and waits out the cooldown before fetching again', async () => {
      server.mode = 'fail';
      const verifier = verifierFor(remote());
      const token = await mint(oldKey);
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'upstream_unavailable' });
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'upstream_unavailable' });
      expect(server.count('/jwks.json')).toBe(1);
      server.mode = 'serve';
      clock.advanceSeconds(30);
      await expect(verifier.verify(token)).resolves.toBeDefined();
    });
    it('times out a fetch that never answers', async () => {
      server.mode = 'hang';
      const keys = remote({ jwksUri: server.jwksUri }, 200);
      await expect(keys.refresh()).rejects.toThrow(/no answer within 200 ms/);
      await expect(verifierFor(keys).verify(await mint(oldKey))).rejects.toMatchObject({
        code: 'upstream_unavailable',
      });
    });
  });

  describe('when the JWKS document is not acceptable', () => {
    it('refuses a set carrying private key material and keeps the known keys', async () => {
      const keys = remote();
      const verifier = verifierFor(keys);
      await verifier.verify(await mint(oldKey));
      server.jwks = { keys: [await newKey.privateJwk()] };
      await expect(keys.refresh()).rejects.toThrow(/private or symmetric/);
      await expect(verifier.verify(await mint(oldKey))).resolves.toBeDefined();
    });
    it('does not follow redirects', async () => {
      const keys = remote({ jwksUri: `${server.origin}/moved` });
      await expect(keys.refresh()).rejects.toThrow(/request failed/);
      expect(server.count('/jwks.json')).toBe(0);
    });
  });
});
