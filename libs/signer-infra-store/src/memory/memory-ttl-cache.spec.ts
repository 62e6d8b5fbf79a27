import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '@signer/testing';
import { DEFAULT_TTL_CACHE_MAX_ENTRIES, MemoryTtlCache } from './memory-ttl-cache';

/** Noon: no test crosses a UTC day unless it says so. */
const START = '2026-06-01T12:00:00.000Z';

describe('MemoryTtlCache', () => {
  describe('when an entry is read within its TTL', () => {
    it('returns the value', async () => {
      const clock = new ManualClock(START);
      const cache = new MemoryTtlCache<string>({ clock });
      await cache.set('k', 'v', 10);
      clock.advanceMs(9_999);
      await expect(cache.get('k')).resolves.toBe('v');
    });
  });

  describe('when the TTL has elapsed', () => {
    it('returns undefined and forgets the entry', async () => {
      const clock = new ManualClock(START);
      const cache = new MemoryTtlCache<string>({ clock });
      await cache.set('k', 'v', 10);
      clock.advanceSeconds(10);
      await expect(cache.get('k')).resolves.toBeUndefined();
      expect(cache.size).toBe(0);
    });
  });

  describe('when ttlSeconds is not positive', () => {
    it.each([0, -1, Number.NaN])('stores nothing for %p and drops the previous value', async (ttl) => {
      const cache = new MemoryTtlCache<string>({ clock: new ManualClock(START) });
      await cache.set('k', 'old', 10);
      await cache.set('k', 'new', ttl);
      await expect(cache.get('k')).resolves.toBeUndefined();
      expect(cache.size).toBe(0);
    });
  });

  describe('when the cache is full', () => {
    it('evicts the least recently used entry', async () => {
      const cache = new MemoryTtlCache<number>({ clock: new ManualClock(START), maxEntries: 3 });
      await cache.set('a', 1, 60);
      await cache.set('b', 2, 60);
      await cache.set('c', 3, 60);
      await cache.get('a');
      await cache.set('d', 4, 60);
      await expect(cache.get('b')).resolves.toBeUndefined();
      await expect(cache.get('a')).resolves.toBe(1);
      await expect(cache.get('c')).resolves.toBe(3);
      await expect(cache.get('d')).resolves.toBe(4);
    });

    it('evicts nothing when an existing key is replaced', async () => {
      const cache = new MemoryTtlCache<number>({ clock: new ManualClock(START), maxEntries: 2 });
      await cache.set('a', 1, 60);
      await cache.set('b', 2, 60);
      await cache.set('a', 10, 60);
      await expect(cache.get('a')).resolves.toBe(10);
      await expect(cache.get('b')).resolves.toBe(2);
    });
  });

  describe('when constructed without options', () => {
    it('uses the default bound', () => {
      expect(DEFAULT_TTL_CACHE_MAX_ENTRIES).toBeGreaterThan(0);
      expect(new MemoryTtlCache<string>().size).toBe(0);
    });
  });

  describe('when maxEntries is not a positive integer', () => {
    it.each([0, -1, 1.5])('throws a RangeError for %p', (maxEntries) => {
      expect(() => new MemoryTtlCache<string>({ maxEntries })).toThrow(RangeError);
    });
  });
});
