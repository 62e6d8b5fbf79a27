import { ManualClock } from '@signer/testing';
import { refusal } from '../../test/refusal';
import { MemoryRateShaper } from './memory-rate-shaper';

/** Noon: no test crosses a UTC day unless it says so. */
const START = '2026-06-01T12:00:00.000Z';

describe('MemoryRateShaper', () => {
  const setup = () => {
    const clock = new ManualClock(START);
    const waits: number[] = [];
    const shaper = new MemoryRateShaper({
      clock,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    return { clock, waits, shaper };
  };

  describe('when callers arrive faster than maxRps', () => {
    it('spaces their slots 1/maxRps apart, the first without waiting', async () => {
      const { waits, shaper } = setup();
      await Promise.all([1, 2, 3, 4].map(() => shaper.acquire('kms:a', { maxRps: 10, maxWaitMs: 1000 })));
      expect(waits).toEqual([100, 200, 300]);
    });

    it('refuses with plan_throttled (limit kms) once the next slot is beyond the wait bound, reserving nothing', async () => {
      const { clock, waits, shaper } = setup();
      const limit = { maxRps: 2, maxWaitMs: 600 };
      await shaper.acquire('kms:a', limit);
      await shaper.acquire('kms:a', limit);
      const error = await refusal(shaper.acquire('kms:a', limit));
      expect(error).toMatchObject({ code: 'plan_throttled', limit: 'kms', retryAfterSeconds: 1 });
      clock.advanceMs(500);
      // The refused caller took nothing: the next slot is still 500 ms after the second one.
      await shaper.acquire('kms:a', limit);
      expect(waits).toEqual([500, 500]);
    });

    it('keeps keys independent', async () => {
      const { waits, shaper } = setup();
      await shaper.acquire('kms:a', { maxRps: 1, maxWaitMs: 0 });
      await shaper.acquire('kms:b', { maxRps: 1, maxWaitMs: 0 });
      await expect(shaper.acquire('kms:a', { maxRps: 1, maxWaitMs: 0 })).rejects.toMatchObject({
        code: 'plan_throttled',
      });
      expect(waits).toEqual([]);
    });
  });

  describe('when time passes between callers', () => {
    it('does not bank unused slots (no burst above maxRps)', async () => {
      const { clock, waits, shaper } = setup();
      await shaper.acquire('kms:a', { maxRps: 4, maxWaitMs: 1000 });
      clock.advanceSeconds(10);
      await shaper.acquire('kms:a', { maxRps: 4, maxWaitMs: 1000 });
      await shaper.acquire('kms:a', { maxRps: 4, maxWaitMs: 1000 });
      expect(waits).toEqual([250]);
    });
  });

  describe('when the limit is not a positive rate', () => {
    it.each([[0], [-1], [Number.NaN], [Number.POSITIVE_INFINITY]])('refuses maxRps %p', async (maxRps) => {
      await expect(setup().shaper.acquire('k', { maxRps, maxWaitMs: 0 })).rejects.toThrow(RangeError);
    });
  });
});
