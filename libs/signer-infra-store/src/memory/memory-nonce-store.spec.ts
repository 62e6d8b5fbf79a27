import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '@signer/testing';
import { DEFAULT_NONCE_TTL_SECONDS, MemoryNonceStore } from './memory-nonce-store';

/** Noon: no test crosses a UTC day unless it says so. */
const START = '2026-06-01T12:00:00.000Z';

describe('MemoryNonceStore', () => {
  describe('when a nonce is issued', () => {
    it('is 128 bits of base64url', async () => {
      const nonce = await new MemoryNonceStore({ clock: new ManualClock(START) }).issue();
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(nonce, 'base64url')).toHaveLength(16);
    });

    it('differs from every other issued nonce', async () => {
      const store = new MemoryNonceStore({ clock: new ManualClock(START) });
      const nonces = await Promise.all(Array.from({ length: 100 }, () => store.issue()));
      expect(new Set(nonces).size).toBe(100);
    });
  });

  describe('when checked within its TTL', () => {
    it('is valid, and stays valid for reuse', async () => {
      const clock = new ManualClock(START);
      const store = new MemoryNonceStore({ clock, ttlSeconds: 30 });
      const nonce = await store.issue();
      clock.advanceMs(29_999);
      await expect(store.isValid(nonce)).resolves.toBe(true);
      await expect(store.isValid(nonce)).resolves.toBe(true);
    });
  });

  describe('when checked at or after its TTL', () => {
    it('is invalid', async () => {
      const clock = new ManualClock(START);
      const store = new MemoryNonceStore({ clock });
      const nonce = await store.issue();
      clock.advanceSeconds(DEFAULT_NONCE_TTL_SECONDS);
      await expect(store.isValid(nonce)).resolves.toBe(false);
      expect(store.size).toBe(0);
    });
  });

  describe('when a value was never issued', () => {
    it('is invalid', async () => {
      await expect(
        new MemoryNonceStore({ clock: new ManualClock(START) }).isValid('AAAAAAAAAAAAAAAAAAAAAA'),
      ).resolves.toBe(false);
    });
  });

  describe('when the store is full', () => {
    it('forgets the oldest nonce and keeps the rest', async () => {
      const clock = new ManualClock(START);
      const store = new MemoryNonceStore({ clock, maxEntries: 2 });
      const first = await store.issue();
      clock.advanceSeconds(1);
      const second = await store.issue();
      const third = await store.issue();
      await expect(store.isValid(first)).resolves.toBe(false);
      await expect(store.isValid(second)).resolves.toBe(true);
      await expect(store.isValid(third)).resolves.toBe(true);
    });
  });

  describe('when the options are invalid', () => {
    it.each([{ ttlSeconds: 0 }, { ttlSeconds: Number.NaN }, { maxEntries: 0 }])(
      'throws a RangeError for %p',
      (options) => {
        expect(() => new MemoryNonceStore(options)).toThrow(RangeError);
      },
    );
  });
});
