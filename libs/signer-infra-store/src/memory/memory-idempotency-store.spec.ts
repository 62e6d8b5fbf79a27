import { describe, expect, it } from '@jest/globals';
import { describeGuardOverStore } from '../../test/idempotency-guard-scenarios';
import { describeIdempotencyStoreConformance } from '../../test/idempotency-store-conformance';
import { MemoryIdempotencyStore } from './memory-idempotency-store';

describe('MemoryIdempotencyStore', () => {
  describe('conformance (manual clock)', () => {
    describeIdempotencyStoreConformance(async ({ clock, limits }) => {
      const store = new MemoryIdempotencyStore({ clock, ...limits });
      return { store, usage: async (tenant) => store.usage(tenant) };
    });
  });

  describe('under the IdempotencyGuard (real clock)', () => {
    // One process: every "replica" is the same store.
    describeGuardOverStore(async (limits) => {
      const store = new MemoryIdempotencyStore(limits);
      return () => store;
    });
  });

  describe('when configured with a minimum retention longer than the TTL', () => {
    it('refuses to start', () => {
      expect(() => new MemoryIdempotencyStore({ ttlSeconds: 60, minRetentionSeconds: 61 })).toThrow(
        RangeError,
      );
    });
  });
});
