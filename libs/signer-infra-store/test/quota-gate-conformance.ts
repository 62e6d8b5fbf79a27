import { describe, expect, it } from '@jest/globals';
import { SignerError, type PlanLimits, type QuotaGate } from '@signer/core';
import { DEFAULT_QUOTA_LEASE_SECONDS } from '../src/memory/memory-quota-gate';
import { ManualClock } from '@signer/testing';
import { refusal } from './refusal';

/** Noon: no test crosses a UTC day unless it says so. */
const START = '2026-06-01T12:00:00.000Z';

/** Builds a gate over fresh state whose notion of time is the given manual clock. */
export type QuotaGateFactory = (options: { clock: ManualClock; leaseSeconds?: number }) => QuotaGate;

const subject = { licenseId: 'lic-1', tenant: 'tenant-a' };
const other = { licenseId: 'lic-2', tenant: 'tenant-a' };
const otherTenant = { licenseId: 'lic-1', tenant: 'tenant-b' };

export function plan(overrides: Partial<PlanLimits> = {}): PlanLimits {
  return { qps: 100, burst: 100, concurrency: 100, maxArtifactBytes: 1024, dailyCap: 1000, ...overrides };
}

export function expectThrottled(error: SignerError, limit: string, retryAfterSeconds: number): void {
  expect(error).toBeInstanceOf(SignerError);
  expect(error.code).toBe('plan_throttled');
  expect(error.limit).toBe(limit);
  expect(error.retryAfterSeconds).toBe(retryAfterSeconds);
}

/**
 * The {@link QuotaGate} semantics every store must have (contract §6), run against the memory
 * store and the Redis scripts alike with a manual clock, so day boundaries and lease expiry are
 * exact. Checks run in the order daily → concurrency → qps; a refused acquire holds nothing.
 */
export function describeQuotaGateConformance(factory: QuotaGateFactory): void {
  const build = (options: { at?: string; leaseSeconds?: number } = {}) => {
    const clock = new ManualClock(options.at ?? START);
    return { clock, gate: factory({ clock, leaseSeconds: options.leaseSeconds }) };
  };

  describe('QPS token bucket', () => {
    describe('when a new licence sends a burst', () => {
      it('admits `burst` requests back to back, counting down qpsRemaining', async () => {
        const { gate } = build();
        const limits = plan({ qps: 2, burst: 4 });
        const remaining: number[] = [];
        for (let i = 0; i < 4; i += 1) remaining.push((await gate.acquire(subject, limits)).qpsRemaining);
        expect(remaining).toEqual([3, 2, 1, 0]);
        expectThrottled(await refusal(gate.acquire(subject, limits)), 'qps', 1);
      });
    });

    describe('when many acquires race for the last tokens', () => {
      it('admits exactly the burst and no more', async () => {
        const { gate } = build();
        const limits = plan({ qps: 1, burst: 5 });
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, () => gate.acquire(subject, limits)),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
        const left = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.qpsRemaining] : []));
        expect(left.sort()).toEqual([0, 1, 2, 3, 4]);
      });
    });

    describe('when time passes after the bucket is empty', () => {
      it('refills qps tokens per second, continuously', async () => {
        const { clock, gate } = build();
        const limits = plan({ qps: 2, burst: 1 });
        await gate.acquire(subject, limits);
        clock.advanceMs(499);
        await refusal(gate.acquire(subject, limits));
        clock.advanceMs(1);
        await expect(gate.acquire(subject, limits)).resolves.toMatchObject({ qpsRemaining: 0 });
      });

      it('never refills beyond the burst', async () => {
        const { clock, gate } = build();
        const limits = plan({ qps: 10, burst: 3 });
        await gate.acquire(subject, limits);
        clock.advanceSeconds(3600);
        for (let i = 0; i < 3; i += 1) await gate.acquire(subject, limits);
        expect((await refusal(gate.acquire(subject, limits))).limit).toBe('qps');
      });
    });

    describe('when the bucket is empty', () => {
      it.each([
        { qps: 2, waitedMs: 0, retryAfter: 1 },
        { qps: 0.25, waitedMs: 0, retryAfter: 4 },
        { qps: 0.25, waitedMs: 1000, retryAfter: 3 },
        { qps: 0.25, waitedMs: 2500, retryAfter: 2 },
      ])(
        'answers Retry-After $retryAfter at qps $qps after $waitedMs ms',
        async ({ qps, waitedMs, retryAfter }) => {
          const { clock, gate } = build();
          const limits = plan({ qps, burst: 1 });
          await gate.acquire(subject, limits);
          clock.advanceMs(waitedMs);
          expectThrottled(await refusal(gate.acquire(subject, limits)), 'qps', retryAfter);
        },
      );
    });

    describe('when burst is below one', () => {
      it.each([
        { qps: 3, admitted: 3 },
        { qps: 0.5, admitted: 1 },
      ])('uses max(qps, 1) = $admitted as the capacity for qps $qps', async ({ qps, admitted }) => {
        const { gate } = build();
        const limits = plan({ qps, burst: 0 });
        for (let i = 0; i < admitted; i += 1) await gate.acquire(subject, limits);
        expect((await refusal(gate.acquire(subject, limits))).limit).toBe('qps');
      });
    });

    describe('when two licences share the gate', () => {
      it('keeps a bucket per licence', async () => {
        const { gate } = build();
        const limits = plan({ qps: 1, burst: 1 });
        await gate.acquire(subject, limits);
        await expect(gate.acquire(other, limits)).resolves.toMatchObject({ qpsRemaining: 0 });
      });
    });

    describe('when two tenants present the same licence id', () => {
      it('keeps every counter per tenant', async () => {
        const { gate } = build();
        const limits = plan({ qps: 1, burst: 1, concurrency: 1, dailyCap: 1 });
        await gate.acquire(subject, limits);
        await expect(gate.acquire(otherTenant, limits)).resolves.toMatchObject({ qpsRemaining: 0 });
        expect((await refusal(gate.acquire(subject, limits))).limit).toBe('daily');
      });
    });
  });

  describe('concurrency', () => {
    describe('when every slot is held', () => {
      it('refuses with Retry-After 1', async () => {
        const { gate } = build();
        const limits = plan({ concurrency: 2 });
        await gate.acquire(subject, limits);
        await gate.acquire(subject, limits);
        expectThrottled(await refusal(gate.acquire(subject, limits)), 'concurrency', 1);
      });
    });

    describe('when many acquires race for the slots', () => {
      it('hands out exactly `concurrency` slots', async () => {
        const { gate } = build();
        const limits = plan({ concurrency: 4 });
        const results = await Promise.allSettled(
          Array.from({ length: 16 }, () => gate.acquire(subject, limits)),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
      });
    });

    describe.each(['signed', 'failed'] as const)('when a lease is released as %s', (outcome) => {
      it('frees its slot', async () => {
        const { gate } = build();
        const limits = plan({ concurrency: 1 });
        const lease = await gate.acquire(subject, limits);
        await lease.release(outcome);
        await expect(gate.acquire(subject, limits)).resolves.toBeDefined();
      });
    });

    describe('when a lease is released twice', () => {
      it('frees only its own slot', async () => {
        const { gate } = build();
        const limits = plan({ concurrency: 2 });
        const first = await gate.acquire(subject, limits);
        await gate.acquire(subject, limits);
        await first.release('signed');
        await first.release('signed');
        await gate.acquire(subject, limits);
        expectThrottled(await refusal(gate.acquire(subject, limits)), 'concurrency', 1);
      });
    });

    describe('when a lease outlives leaseSeconds without a release', () => {
      it('frees the slot at expiry, not before', async () => {
        const { clock, gate } = build({ leaseSeconds: 10 });
        const limits = plan({ concurrency: 1 });
        await gate.acquire(subject, limits);
        clock.advanceMs(9_999);
        await refusal(gate.acquire(subject, limits));
        clock.advanceMs(1);
        await expect(gate.acquire(subject, limits)).resolves.toBeDefined();
      });

      it('does not free the next holder when the stale lease is finally released', async () => {
        const { clock, gate } = build();
        const limits = plan({ concurrency: 1 });
        const stale = await gate.acquire(subject, limits);
        clock.advanceSeconds(DEFAULT_QUOTA_LEASE_SECONDS);
        await gate.acquire(subject, limits);
        await stale.release('signed');
        expectThrottled(await refusal(gate.acquire(subject, limits)), 'concurrency', 1);
      });
    });
  });

  describe('daily cap', () => {
    describe('when the cap is reached', () => {
      it.each([
        { at: '2026-06-01T12:00:00.000Z', retryAfter: 43_200 },
        { at: '2026-06-01T23:59:59.500Z', retryAfter: 1 },
        { at: '2026-06-01T00:00:00.000Z', retryAfter: 86_400 },
      ])('refuses at $at with Retry-After $retryAfter (next UTC midnight)', async ({ at, retryAfter }) => {
        const { gate } = build({ at });
        const limits = plan({ dailyCap: 2 });
        await gate.acquire(subject, limits);
        await gate.acquire(subject, limits);
        expectThrottled(await refusal(gate.acquire(subject, limits)), 'daily', retryAfter);
      });
    });

    describe('when UTC midnight passes', () => {
      it('resets the counter', async () => {
        const { clock, gate } = build({ at: '2026-06-01T23:59:59.999Z' });
        const limits = plan({ dailyCap: 1 });
        await gate.acquire(subject, limits);
        await refusal(gate.acquire(subject, limits));
        clock.advanceMs(1);
        await expect(gate.acquire(subject, limits)).resolves.toBeDefined();
      });
    });

    describe('when a lease is released as failed', () => {
      it('gives the daily unit back, once', async () => {
        const { gate } = build();
        const limits = plan({ dailyCap: 2 });
        const failed = await gate.acquire(subject, limits);
        await failed.release('failed');
        await failed.release('failed');
        await gate.acquire(subject, limits);
        await gate.acquire(subject, limits);
        expectThrottled(await refusal(gate.acquire(subject, limits)), 'daily', 43_200);
      });

      it('does not refund into the next UTC day', async () => {
        const { clock, gate } = build({ at: '2026-06-01T23:59:59.000Z' });
        const limits = plan({ dailyCap: 1 });
        const yesterdays = await gate.acquire(subject, limits);
        clock.advanceSeconds(1);
        await gate.acquire(subject, limits);
        await yesterdays.release('failed');
        expect((await refusal(gate.acquire(subject, limits))).limit).toBe('daily');
      });
    });

    describe('when a lease is released as signed', () => {
      it('keeps the daily unit', async () => {
        const { gate } = build();
        const limits = plan({ dailyCap: 1 });
        await (await gate.acquire(subject, limits)).release('signed');
        expectThrottled(await refusal(gate.acquire(subject, limits)), 'daily', 43_200);
      });
    });
  });

  describe('order of checks', () => {
    describe('when every limit is exhausted', () => {
      it('reports daily first, then concurrency, then qps', async () => {
        const { gate } = build();
        await gate.acquire(subject, plan({ qps: 1, burst: 1, concurrency: 1, dailyCap: 1 }));
        const error = (limits: Partial<PlanLimits>): Promise<SignerError> =>
          refusal(gate.acquire(subject, plan({ qps: 1, burst: 1, concurrency: 1, dailyCap: 1, ...limits })));
        expect((await error({})).limit).toBe('daily');
        expect((await error({ dailyCap: 10 })).limit).toBe('concurrency');
        expect((await error({ dailyCap: 10, concurrency: 10 })).limit).toBe('qps');
      });
    });
  });

  describe('a refused acquire', () => {
    describe('when refused for concurrency', () => {
      it('takes no token and no daily unit', async () => {
        const { gate } = build();
        const limits = plan({ qps: 0.001, burst: 2, concurrency: 1, dailyCap: 2 });
        const held = await gate.acquire(subject, limits);
        await refusal(gate.acquire(subject, limits));
        await held.release('signed');
        await expect(gate.acquire(subject, limits)).resolves.toMatchObject({ qpsRemaining: 0 });
      });
    });

    describe('when refused for qps', () => {
      it('holds no slot and no daily unit', async () => {
        const { clock, gate } = build();
        const limits = plan({ qps: 1, burst: 1, concurrency: 2, dailyCap: 2 });
        await gate.acquire(subject, limits);
        expectThrottled(await refusal(gate.acquire(subject, limits)), 'qps', 1);
        clock.advanceSeconds(1);
        await expect(gate.acquire(subject, limits)).resolves.toBeDefined();
      });
    });

    describe('when refused for the daily cap', () => {
      it('takes no token and holds no slot', async () => {
        const { clock, gate } = build({ at: '2026-06-01T23:59:59.999Z' });
        const limits = plan({ qps: 0.001, burst: 2, concurrency: 1, dailyCap: 1 });
        await (await gate.acquire(subject, limits)).release('signed');
        expectThrottled(await refusal(gate.acquire(subject, limits)), 'daily', 1);
        clock.advanceMs(1);
        await expect(gate.acquire(subject, limits)).resolves.toMatchObject({ qpsRemaining: 0 });
      });
    });
  });

  describe('when a limit is zero or not a number', () => {
    it.each([
      { limits: { dailyCap: 0 }, limit: 'daily' },
      { limits: { concurrency: 0 }, limit: 'concurrency' },
      { limits: { qps: 0 }, limit: 'qps' },
      { limits: { dailyCap: Number.NaN }, limit: 'daily' },
      { limits: { concurrency: Number.NaN }, limit: 'concurrency' },
      { limits: { qps: Number.NaN, burst: Number.NaN }, limit: 'qps' },
    ])('allows nothing for $limits', async ({ limits, limit }) => {
      const { gate } = build();
      expect((await refusal(gate.acquire(subject, plan(limits)))).limit).toBe(limit);
    });
  });
}
