import { describe, expect, it } from '@jest/globals';
import { SignerError } from '@signer/core';
import { ManualClock } from '@signer/testing';
import { refusal } from '../../test/refusal';
import { MemoryReplayCache } from './memory-replay-cache';

/** Noon: no test crosses a UTC day unless it says so. */
const START = '2026-06-01T12:00:00.000Z';

describe('MemoryReplayCache', () => {
  describe('when a key is seen twice within its TTL', () => {
    it('returns true once, then false', async () => {
      const clock = new ManualClock(START);
      const cache = new MemoryReplayCache({ clock });
      await expect(cache.firstSeen('jti-1', 60)).resolves.toBe(true);
      clock.advanceMs(59_999);
      await expect(cache.firstSeen('jti-1', 60)).resolves.toBe(false);
    });
  });

  describe('when many calls race for one key', () => {
    it('returns true exactly once', async () => {
      const cache = new MemoryReplayCache({ clock: new ManualClock(START) });
      const answers = await Promise.all(Array.from({ length: 50 }, () => cache.firstSeen('jti-race', 60)));
      expect(answers.filter(Boolean)).toHaveLength(1);
    });
  });

  describe('when the TTL has elapsed', () => {
    it('accepts the key again', async () => {
      const clock = new ManualClock(START);
      const cache = new MemoryReplayCache({ clock });
      await cache.firstSeen('jti-1', 60);
      clock.advanceSeconds(60);
      await expect(cache.firstSeen('jti-1', 60)).resolves.toBe(true);
    });
  });

  describe('under a steady stream of proofs with one TTL', () => {
    it('forgets expired keys as new ones arrive, holding about one TTL worth', async () => {
      const clock = new ManualClock(START);
      const cache = new MemoryReplayCache({ clock, maxEntries: 1_000_000 });
      for (let second = 0; second < 100; second += 1) {
        for (let i = 0; i < 100; i += 1) await cache.firstSeen(`jti-${second}-${i}`, 31);
        clock.advanceSeconds(1);
      }
      // Keys of the last 31 seconds are live; everything older has left without a full sweep.
      expect(cache.size).toBeGreaterThanOrEqual(3000);
      expect(cache.size).toBeLessThanOrEqual(3200);
      await expect(cache.firstSeen('jti-99-0', 31)).resolves.toBe(false);
    });

    it('keeps a key stored again after it expired, whatever its first entry said', async () => {
      const clock = new ManualClock(START);
      const cache = new MemoryReplayCache({ clock });
      await cache.firstSeen('again', 10);
      clock.advanceSeconds(10);
      await expect(cache.firstSeen('again', 60)).resolves.toBe(true);
      clock.advanceSeconds(30);
      await cache.firstSeen('other', 10); // purges the head, including the first 'again' entry
      await expect(cache.firstSeen('again', 60)).resolves.toBe(false);
    });
  });

  describe('when full but holding expired keys', () => {
    it('purges them and accepts the new key', async () => {
      const clock = new ManualClock(START);
      const cache = new MemoryReplayCache({ clock, maxEntries: 3 });
      await cache.firstSeen('long', 600);
      await cache.firstSeen('short-1', 10);
      await cache.firstSeen('short-2', 10);
      clock.advanceSeconds(10);
      await expect(cache.firstSeen('new', 60)).resolves.toBe(true);
      expect(cache.size).toBe(2);
      await expect(cache.firstSeen('long', 600)).resolves.toBe(false);
    });
  });

  describe('when full of unexpired keys', () => {
    it('refuses with upstream_unavailable rather than forgetting a live key', async () => {
      const clock = new ManualClock(START);
      const cache = new MemoryReplayCache({ clock, maxEntries: 2 });
      await cache.firstSeen('a', 30);
      await cache.firstSeen('b', 60);
      clock.advanceSeconds(10);
      const error = await refusal(cache.firstSeen('c', 60));
      expect(error).toBeInstanceOf(SignerError);
      expect(error.code).toBe('upstream_unavailable');
      expect(error.upstream).toBe('redis');
      expect(error.retryAfterSeconds).toBe(20);
      await expect(cache.firstSeen('a', 30)).resolves.toBe(false);
      await expect(cache.firstSeen('b', 60)).resolves.toBe(false);
    });

    it('accepts new keys once the earliest one expires', async () => {
      const clock = new ManualClock(START);
      const cache = new MemoryReplayCache({ clock, maxEntries: 2 });
      await cache.firstSeen('a', 30);
      await cache.firstSeen('b', 60);
      await refusal(cache.firstSeen('c', 60));
      clock.advanceSeconds(30);
      await expect(cache.firstSeen('c', 60)).resolves.toBe(true);
    });
  });

  describe('when ttlSeconds is not positive', () => {
    it.each([0, -5, Number.NaN])('throws a RangeError for %p', async (ttl) => {
      const cache = new MemoryReplayCache({ clock: new ManualClock(START) });
      await expect(cache.firstSeen('k', ttl)).rejects.toThrow(RangeError);
    });
  });
});
