import { describe, expect, it } from '@jest/globals';
import type { IdempotencyClaim, IdempotencyScope, IdempotencyStore, StoredOutcome } from '@signer/core';
import {
  doneJson,
  pendingJson,
  recordCost,
  type IdempotencyLimitsOptions,
} from '../src/memory/idempotency-records';
import { ManualClock } from '@signer/testing';

/** Noon: no test crosses a UTC day unless it says so. */
const START = '2026-06-01T12:00:00.000Z';

/** A store over fresh state whose notion of time is the given manual clock, and its byte usage. */
export interface IdempotencyStoreUnderTest {
  store: IdempotencyStore;
  usage(tenant?: string): Promise<number>;
}

export type IdempotencyStoreFactory = (options: {
  clock: ManualClock;
  limits: IdempotencyLimitsOptions;
}) => Promise<IdempotencyStoreUnderTest>;

const LIMITS = {
  ttlSeconds: 3600,
  leaseSeconds: 30,
  minRetentionSeconds: 600,
  maxBytesPerTenant: 1_000_000,
  maxBytes: 10_000_000,
} satisfies IdempotencyLimitsOptions;

const FP = 'fp-1';
const scope = (key: string, tenant = 'tenant-a'): IdempotencyScope => ({ tenant, key });
/** A final refusal whose stored record is about `size` bytes of JSON. */
const refusal = (size: number, auditId = 'audit-1'): StoredOutcome => ({
  kind: 'refused',
  code: 'predicate_unsupported',
  message: 'm'.repeat(size),
  auditId,
});
/** What a completed record with this outcome (and FP) costs against a budget. */
const doneCost = (outcome: StoredOutcome) => recordCost(doneJson(FP, outcome));
/** What a claim costs (claim ids are UUIDs: every claim costs the same). */
const PENDING_COST = recordCost(pendingJson(FP, '00000000-0000-4000-8000-000000000000'));

function claimed(claim: IdempotencyClaim): string {
  if (claim.state !== 'claimed') throw new Error(`expected claimed, got ${claim.state}`);
  return claim.claimId;
}

/**
 * The {@link IdempotencyStore} semantics every store must have (contract §2.1), run against the
 * memory store and the Redis scripts alike with a manual clock: one claim per key, claims that
 * lapse after their lease, answers kept for the TTL, and byte budgets per tenant and overall that
 * refuse a new key rather than evict an answer younger than the minimum retention.
 */
export function describeIdempotencyStoreConformance(factory: IdempotencyStoreFactory): void {
  const build = async (limits: IdempotencyLimitsOptions = {}) => {
    const clock = new ManualClock(START);
    return { clock, ...(await factory({ clock, limits: { ...LIMITS, ...limits } })) };
  };
  /** Claims and completes `key` for `tenant` with `outcome`. */
  const store1 = async (
    store: IdempotencyStore,
    key: IdempotencyScope,
    outcome: StoredOutcome,
  ): Promise<void> => {
    await store.complete(key, claimed(await store.claim(key, FP)), FP, outcome);
  };

  describe('claims', () => {
    describe('when many callers claim one key at once', () => {
      it('lets exactly one run it; the others see it pending with its fingerprint', async () => {
        const { store } = await build();
        const claims = await Promise.all(Array.from({ length: 10 }, () => store.claim(scope('k'), FP)));
        expect(claims.filter((c) => c.state === 'claimed')).toHaveLength(1);
        expect(claims.filter((c) => c.state === 'pending')).toEqual(
          Array.from({ length: 9 }, () => ({ state: 'pending', fingerprint: FP })),
        );
      });
    });

    describe('when the claim completes', () => {
      it('replays the stored answer until the TTL, then the key is free again', async () => {
        const { store, clock } = await build();
        const outcome = refusal(10);
        await store1(store, scope('k'), outcome);
        clock.advanceSeconds(3599);
        await expect(store.claim(scope('k'), FP)).resolves.toEqual({
          state: 'done',
          fingerprint: FP,
          outcome,
        });
        clock.advanceSeconds(1);
        expect((await store.claim(scope('k'), 'fp-2')).state).toBe('claimed');
      });
    });

    describe('when the claim is released', () => {
      it('lets the next claim run', async () => {
        const { store } = await build();
        await store.release(scope('k'), claimed(await store.claim(scope('k'), FP)));
        expect((await store.claim(scope('k'), FP)).state).toBe('claimed');
      });
    });
  });

  describe('leases', () => {
    describe('when a claim is never completed (its replica died)', () => {
      it('is pending until its lease ends, then the next claim runs', async () => {
        const { store, clock } = await build();
        claimed(await store.claim(scope('k'), FP));
        clock.advanceSeconds(29);
        await expect(store.claim(scope('k'), FP)).resolves.toEqual({ state: 'pending', fingerprint: FP });
        clock.advanceSeconds(1);
        expect((await store.claim(scope('k'), FP)).state).toBe('claimed');
      });
    });

    describe('when a lapsed claim answers late, after another caller claimed the key', () => {
      it('neither replaces nor frees the new claim', async () => {
        const { store, clock } = await build();
        const lapsed = claimed(await store.claim(scope('k'), FP));
        clock.advanceSeconds(30);
        const current = claimed(await store.claim(scope('k'), FP));
        await store.complete(scope('k'), lapsed, FP, refusal(1, 'late'));
        await store.release(scope('k'), lapsed);
        await expect(store.claim(scope('k'), FP)).resolves.toEqual({ state: 'pending', fingerprint: FP });
        await store.complete(scope('k'), current, FP, refusal(1, 'current'));
        await expect(store.claim(scope('k'), FP)).resolves.toMatchObject({
          state: 'done',
          outcome: { auditId: 'current' },
        });
      });
    });

    describe('when a lapsed claim answers late and no one claimed the key since', () => {
      it('stores its answer', async () => {
        const { store, clock } = await build();
        const lapsed = claimed(await store.claim(scope('k'), FP));
        clock.advanceSeconds(45);
        await store.complete(scope('k'), lapsed, FP, refusal(1, 'late'));
        await expect(store.claim(scope('k'), FP)).resolves.toMatchObject({
          state: 'done',
          outcome: { auditId: 'late' },
        });
      });
    });
  });

  describe('byte budgets', () => {
    describe('when records are stored, released and expire', () => {
      it('charges each its stored JSON bytes plus the overhead, and frees them again', async () => {
        const { store, clock, usage } = await build();
        const outcome = refusal(1000);
        await store1(store, scope('a'), outcome);
        const pending = claimed(await store.claim(scope('b'), FP));
        expect(await usage('tenant-a')).toBe(doneCost(outcome) + PENDING_COST);
        expect(await usage()).toBe(doneCost(outcome) + PENDING_COST);
        await store.release(scope('b'), pending);
        expect(await usage('tenant-a')).toBe(doneCost(outcome));
        clock.advanceSeconds(3600);
        await store.claim(scope('c', 'tenant-b'), FP); // any claim sweeps expired records
        expect(await usage('tenant-a')).toBe(0);
        expect(await usage()).toBe(PENDING_COST);
      });
    });

    describe("when a tenant's recent answers fill its budget", () => {
      it('refuses a new key until the oldest may go; stored answers replay; other tenants claim', async () => {
        const outcome = refusal(2000);
        const { store, clock } = await build({ maxBytesPerTenant: 3 * doneCost(outcome) + PENDING_COST - 1 });
        for (const key of ['k1', 'k2', 'k3']) {
          await store1(store, scope(key), outcome);
          clock.advanceSeconds(1);
        }
        await expect(store.claim(scope('k4'), FP)).resolves.toEqual({
          state: 'full',
          budget: 'tenant',
          limitBytes: 3 * doneCost(outcome) + PENDING_COST - 1,
          retryAfterSeconds: 597, // k1 completed 3 s ago, kept at least 600 s
        });
        await expect(store.claim(scope('k1'), FP)).resolves.toMatchObject({ state: 'done', outcome });
        expect((await store.claim(scope('k4', 'tenant-b'), FP)).state).toBe('claimed');
      });
    });

    describe('when the oldest answer of a full tenant is past the minimum retention', () => {
      it('evicts the oldest answers first, only as many as the new claim needs', async () => {
        const outcome = refusal(2000);
        const { store, clock, usage } = await build({
          maxBytesPerTenant: 3 * doneCost(outcome) + PENDING_COST - 1,
        });
        for (const key of ['k1', 'k2', 'k3']) {
          await store1(store, scope(key), outcome);
          clock.advanceSeconds(1);
        }
        clock.advanceSeconds(597); // k1 is 600 s old, k2 599 s
        expect((await store.claim(scope('k4'), FP)).state).toBe('claimed');
        expect(await usage('tenant-a')).toBe(2 * doneCost(outcome) + PENDING_COST);
        await expect(store.claim(scope('k2'), FP)).resolves.toMatchObject({ state: 'done' });
        expect((await store.claim(scope('k1'), FP)).state).toBe('claimed');
      });
    });

    describe('when all tenants together fill the overall budget', () => {
      it('refuses a new key of any tenant as full overall', async () => {
        const outcome = refusal(2000);
        const limit = 2 * doneCost(outcome) + PENDING_COST - 1;
        const { store } = await build({ maxBytes: limit });
        await store1(store, scope('k1', 'tenant-a'), outcome);
        await store1(store, scope('k2', 'tenant-b'), outcome);
        await expect(store.claim(scope('k3', 'tenant-c'), FP)).resolves.toEqual({
          state: 'full',
          budget: 'overall',
          limitBytes: limit,
          retryAfterSeconds: 600,
        });
      });
    });

    describe('when an answer is larger than the room left', () => {
      it('is stored anyway (the request ran), and the next new key is refused', async () => {
        const big = refusal(50_000);
        const { store, usage } = await build({ maxBytesPerTenant: 10_000 });
        await store1(store, scope('k1'), big);
        await expect(store.claim(scope('k1'), FP)).resolves.toMatchObject({ state: 'done', outcome: big });
        expect(await usage('tenant-a')).toBe(doneCost(big));
        expect((await store.claim(scope('k2'), FP)).state).toBe('full');
      });
    });

    describe('when a tenant holds many claims and no answers', () => {
      it('counts the claims too, and refuses with a retry after 1 s', async () => {
        const { store } = await build({ maxBytesPerTenant: 3 * PENDING_COST - 1 });
        claimed(await store.claim(scope('k1'), FP));
        claimed(await store.claim(scope('k2'), FP));
        await expect(store.claim(scope('k3'), FP)).resolves.toMatchObject({
          state: 'full',
          budget: 'tenant',
          retryAfterSeconds: 1,
        });
      });
    });
  });
}
