import { SignerError } from '../errors';
import type { EntitlementClaims, ReleaseVerdict } from '../model';
import type { TtlCache } from '../ports/ttl-cache';
import { CachingEntitlementVerifier, type CachedEntitlement } from './caching-entitlement-verifier';
import { CachingReleaseVerifier } from './caching-release-verifier';

class RecordingCache<V> implements TtlCache<V> {
  readonly entries = new Map<string, { value: V; ttl: number }>();
  async get(key: string): Promise<V | undefined> {
    return this.entries.get(key)?.value;
  }
  async set(key: string, value: V, ttlSeconds: number): Promise<void> {
    if (ttlSeconds > 0) this.entries.set(key, { value, ttl: ttlSeconds });
  }
}

const NOW = 1_000_000;
const clock = { now: () => new Date(NOW * 1000) };
const claims: EntitlementClaims = {
  active: true,
  revoked: false,
  licenseId: 'l',
  tenant: 't',
  plan: 'p',
  expiresAt: NOW + 60,
};

describe('CachingEntitlementVerifier', () => {
  const build = (verify: () => Promise<EntitlementClaims>) => {
    const cache = new RecordingCache<CachedEntitlement>();
    let calls = 0;
    const verifier = new CachingEntitlementVerifier({
      inner: { verify: () => ((calls += 1), verify()) },
      cache,
      clock,
      cacheTtlSeconds: 120,
      negativeCacheTtlSeconds: 30,
    });
    return { verifier, cache, calls: () => calls };
  };

  describe('when Licensing answers active', () => {
    it('caches for min(cacheTtl, exp - now) and serves hits without a call', async () => {
      const { verifier, cache, calls } = build(async () => claims);
      await verifier.verify({ format: 'jwt', value: 'poe-1' });
      await verifier.verify({ format: 'jwt', value: 'poe-1' });
      expect(calls()).toBe(1);
      expect([...cache.entries.values()][0].ttl).toBe(60);
      expect([...cache.entries.keys()][0]).not.toContain('poe-1');
    });
    it('coalesces concurrent misses into one upstream call', async () => {
      const { verifier, calls } = build(async () => claims);
      await Promise.all(Array.from({ length: 10 }, () => verifier.verify({ format: 'jwt', value: 'poe-2' })));
      expect(calls()).toBe(1);
    });
  });

  describe('when Licensing refuses or is down', () => {
    it('caches a denial for the negative TTL', async () => {
      const { verifier, cache } = build(async () => {
        throw new SignerError('entitlement_denied', 'bad signature');
      });
      await expect(verifier.verify({ format: 'jwt', value: 'poe-3' })).rejects.toMatchObject({
        code: 'entitlement_denied',
      });
      expect([...cache.entries.values()][0]).toEqual({
        value: { kind: 'denied', message: 'bad signature' },
        ttl: 30,
      });
      await expect(verifier.verify({ format: 'jwt', value: 'poe-3' })).rejects.toMatchObject({
        code: 'entitlement_denied',
      });
    });
    it('never caches a transport error', async () => {
      const { verifier, cache } = build(async () => {
        throw new SignerError('upstream_unavailable', 'timeout', { upstream: 'licensing' });
      });
      await expect(verifier.verify({ format: 'jwt', value: 'poe-4' })).rejects.toMatchObject({
        code: 'upstream_unavailable',
      });
      expect(cache.entries.size).toBe(0);
    });
    it('caches an expired licence for the negative TTL', async () => {
      const { verifier, cache } = build(async () => ({ ...claims, expiresAt: NOW - 1 }));
      await verifier.verify({ format: 'jwt', value: 'poe-6' });
      expect([...cache.entries.values()][0].ttl).toBe(30);
    });
    it('caches an inactive answer only for the negative TTL', async () => {
      const { verifier, cache } = build(async () => ({ ...claims, active: false }));
      await verifier.verify({ format: 'jwt', value: 'poe-5' });
      expect([...cache.entries.values()][0].ttl).toBe(30);
    });
  });
});

describe('CachingReleaseVerifier', () => {
  const verdict = (trusted: boolean): ReleaseVerdict => ({
    digest: 'd',
    trusted,
    source: 'oci-layout',
    signatures: [],
    release: null,
    reason: trusted ? null : 'no_signatures',
  });
  describe('when verdicts come back', () => {
    it('caches trusted for cacheTtl and untrusted for the negative TTL', async () => {
      const cache = new RecordingCache<ReleaseVerdict>();
      let trusted = true;
      const verifier = new CachingReleaseVerifier({
        inner: { verify: async () => verdict(trusted) },
        cache,
        cacheTtlSeconds: 3600,
        negativeCacheTtlSeconds: 30,
      });
      await verifier.verify('a');
      trusted = false;
      await verifier.verify('b');
      expect(cache.entries.get('a')?.ttl).toBe(3600);
      expect(cache.entries.get('b')?.ttl).toBe(30);
    });
  });
  describe('when the source is down', () => {
    it('caches nothing and propagates 503', async () => {
      const cache = new RecordingCache<ReleaseVerdict>();
      const verifier = new CachingReleaseVerifier({
        inner: {
          verify: async () => {
            throw new SignerError('upstream_unavailable', 'down', { upstream: 'registry' });
          },
        },
        cache,
        cacheTtlSeconds: 3600,
        negativeCacheTtlSeconds: 30,
      });
      await expect(verifier.verify('a')).rejects.toMatchObject({ code: 'upstream_unavailable' });
      expect(cache.entries.size).toBe(0);
    });
  });
});
