import { DeadlineExceededError, retryWithinDeadline } from './retry-within-deadline';

/** A pinned monotonic clock that only the (recorded) sleeps move. */
function pinnedTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    nowMs: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

const transient = Object.assign(new Error('throttled'), { retryable: true });
const fatal = Object.assign(new Error('denied'), { retryable: false });
const isRetryable = (error: unknown) => (error as { retryable?: boolean }).retryable === true;

describe('retryWithinDeadline', () => {
  describe('when transient failures stop before the deadline', () => {
    it('returns the eventual result after backing off exponentially (with jitter)', async () => {
      const time = pinnedTime();
      let attempts = 0;
      const result = await retryWithinDeadline(
        async () => {
          attempts++;
          if (attempts < 4) throw transient;
          return 'signed';
        },
        { deadlineMs: 10_000, isRetryable, baseDelayMs: 100, maxDelayMs: 1000, ...time },
      );
      expect(result).toBe('signed');
      expect(time.sleeps).toHaveLength(3);
      time.sleeps.forEach((ms, i) => {
        expect(ms).toBeGreaterThanOrEqual((100 * 2 ** i) / 2);
        expect(ms).toBeLessThanOrEqual(100 * 2 ** i);
      });
    });
  });

  describe('when a failure is not retryable', () => {
    it('rethrows it at once', async () => {
      const time = pinnedTime();
      await expect(
        retryWithinDeadline(() => Promise.reject(fatal), { deadlineMs: 10_000, isRetryable, ...time }),
      ).rejects.toBe(fatal);
      expect(time.sleeps).toEqual([]);
    });
  });

  describe('when transient failures outlast the deadline', () => {
    it('gives up with DeadlineExceededError carrying the last failure, never sleeping past the deadline', async () => {
      const time = pinnedTime();
      const error = await retryWithinDeadline(() => Promise.reject(transient), {
        deadlineMs: 1000,
        isRetryable,
        baseDelayMs: 100,
        maxDelayMs: 400,
        ...time,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeadlineExceededError);
      expect((error as DeadlineExceededError).cause).toBe(transient);
      expect(time.nowMs()).toBeLessThan(1000);
    });

    it('hands each attempt the whole milliseconds left', async () => {
      const time = pinnedTime();
      const seen: number[] = [];
      await retryWithinDeadline(
        async ({ remainingMs }) => {
          seen.push(remainingMs());
          if (seen.length < 2) throw transient;
        },
        { deadlineMs: 1000.7, isRetryable, baseDelayMs: 10, maxDelayMs: 10, ...time },
      );
      expect(seen[0]).toBe(1000);
      expect(Number.isInteger(seen[1])).toBe(true);
      expect(seen[1]).toBeLessThan(1000);
    });
  });
});
