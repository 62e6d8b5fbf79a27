import type { TokenVerifier, VerifiedOpTok } from '@signer/core';
import { DevAuthority } from '@signer/dev';
import { ManualClock } from '@signer/testing';
import { CachingTokenVerifier } from './caching-token-verifier';
import { devOpTokVerifier } from '../../test/dev-authorities';

const NOW = 1_900_000_000;

/** The real verifier, counting how often the decorator lets a token through to it. */
class CountingVerifier implements TokenVerifier {
  calls = 0;
  constructor(private readonly inner: TokenVerifier) {}
  verify(token: string): Promise<VerifiedOpTok> {
    this.calls += 1;
    return this.inner.verify(token);
  }
}

describe('CachingTokenVerifier', () => {
  let authority: DevAuthority;
  let clock: ManualClock;
  let inner: CountingVerifier;
  let hits: number;
  let generation: number;

  const cached = (options: { maxEntries?: number; maxTtlSeconds?: number } = {}) =>
    new CachingTokenVerifier({
      inner,
      clock,
      keyGeneration: () => generation,
      onCacheHit: () => {
        hits += 1;
      },
      ...options,
    });
  const mint = (claims: Parameters<DevAuthority['mint']>[0] = {}) =>
    authority.mint({ now: NOW, jkt: 'thumb', lifetimeSeconds: 120, ...claims });

  beforeAll(async () => {
    authority = await DevAuthority.create();
  });
  beforeEach(() => {
    clock = new ManualClock(NOW * 1000);
    hits = 0;
    generation = 1;
    inner = new CountingVerifier(devOpTokVerifier(authority, clock));
  });

  describe('when the same token comes again', () => {
    it('verifies it once and answers the same frozen result', async () => {
      const verifier = cached();
      const token = await mint();
      const first = await verifier.verify(token);
      const second = await verifier.verify(token);
      expect(second).toBe(first);
      expect(Object.isFrozen(first) && Object.isFrozen(first.confirmation)).toBe(true);
      expect(inner.calls).toBe(1);
      expect(hits).toBe(1);
    });
    it('shares one verification between concurrent requests', async () => {
      const verifier = cached();
      const token = await mint();
      await Promise.all(Array.from({ length: 8 }, () => verifier.verify(token)));
      expect(inner.calls).toBe(1);
    });
  });

  describe('when time passes', () => {
    it('never answers from the cache at or after exp', async () => {
      const verifier = cached();
      const token = await mint();
      await verifier.verify(token);
      clock.advanceSeconds(119);
      await verifier.verify(token);
      expect(inner.calls).toBe(1);
      clock.advanceSeconds(1 + 31); // exp + skew: the real check refuses it again
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'invalid_token' });
      expect(inner.calls).toBe(2);
    });
    it('re-verifies after maxTtlSeconds even when exp is later', async () => {
      const verifier = cached({ maxTtlSeconds: 10 });
      const token = await mint();
      await verifier.verify(token);
      clock.advanceSeconds(10);
      await verifier.verify(token);
      expect(inner.calls).toBe(2);
    });
  });

  describe('when the key set changes', () => {
    it('verifies cached tokens again under the new generation', async () => {
      const verifier = cached();
      const token = await mint();
      await verifier.verify(token);
      generation += 1;
      await verifier.verify(token);
      expect(inner.calls).toBe(2);
    });
  });

  describe('when a token is refused', () => {
    it('caches nothing, so each attempt is checked in full', async () => {
      const verifier = cached();
      const token = await mint({ audience: 'other' });
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'invalid_token' });
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'invalid_token' });
      expect(inner.calls).toBe(2);
      expect(verifier.size).toBe(0);
    });
  });

  describe('when more tokens arrive than it may hold', () => {
    it('stays within maxEntries, forgetting the least recently used', async () => {
      const verifier = cached({ maxEntries: 2 });
      const [a, b, c] = await Promise.all([mint(), mint(), mint()]);
      await verifier.verify(a);
      await verifier.verify(b);
      await verifier.verify(a);
      await verifier.verify(c);
      expect(verifier.size).toBe(2);
      await verifier.verify(a);
      expect(inner.calls).toBe(3);
      await verifier.verify(b);
      expect(inner.calls).toBe(4);
    });
  });
});
