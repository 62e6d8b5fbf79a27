import { ManualClock } from '@signer/testing';
import { CachedReadiness } from './cached-readiness';
import type { ReadinessCheck } from './readiness';

/** A dependency check that counts its calls; each call settles when the test says so. */
class CountedCheck implements ReadinessCheck {
  calls = 0;
  private pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  constructor(
    readonly name: string,
    public mode: 'answer' | 'fail' | 'hold' = 'answer',
  ) {}
  check = (): Promise<void> => {
    this.calls += 1;
    if (this.mode === 'answer') return Promise.resolve();
    if (this.mode === 'fail') return Promise.reject(new Error('refused'));
    return new Promise<void>((resolve, reject) => this.pending.push({ resolve, reject }));
  };
  release(): void {
    for (const { resolve } of this.pending.splice(0)) resolve();
  }
}

const CACHE_MS = 5000;
const TIMEOUT_MS = 40;

describe('CachedReadiness', () => {
  let clock: ManualClock;
  beforeEach(() => {
    clock = new ManualClock('2026-01-01T00:00:00Z');
  });
  const readiness = (checks: ReadinessCheck[], cacheMs = CACHE_MS) =>
    new CachedReadiness({ checks, clock, cacheMs, timeoutMs: TIMEOUT_MS });

  describe('when many callers ask at once', () => {
    it('runs each check once and gives every caller the same report', async () => {
      const kms = new CountedCheck('kms:default');
      const registry = new CountedCheck('release-registry');
      const subject = readiness([kms, registry]);
      const reports = await Promise.all(Array.from({ length: 50 }, () => subject.report()));
      expect([kms.calls, registry.calls]).toEqual([1, 1]);
      expect(new Set(reports).size).toBe(1);
      expect(reports[0]).toMatchObject({
        ready: true,
        dependencies: { 'kms:default': 'ok', 'release-registry': 'ok' },
      });
    });
  });

  describe('when asked again within the cache window', () => {
    it('answers from the cache, and checks again once the window has passed', async () => {
      const kms = new CountedCheck('kms:default');
      const subject = readiness([kms]);
      await subject.report();
      clock.advanceMs(CACHE_MS - 1);
      for (let i = 0; i < 20; i += 1) await subject.report();
      expect(kms.calls).toBe(1);
      clock.advanceMs(1);
      await subject.report();
      expect(kms.calls).toBe(2);
    });

    it('caches a not-ready answer too', async () => {
      const down = new CountedCheck('postgres', 'fail');
      const subject = readiness([down, new CountedCheck('redis')]);
      const first = await subject.report();
      await subject.report();
      expect(first).toMatchObject({ ready: false, dependencies: { postgres: 'unavailable', redis: 'ok' } });
      expect(down.calls).toBe(1);
    });
  });

  describe('when a check hangs', () => {
    it('answers unavailable after the timeout, and never calls that dependency again until it settles', async () => {
      const hung = new CountedCheck('kms:default', 'hold');
      const redis = new CountedCheck('redis');
      const subject = readiness([hung, redis]);
      const first = await Promise.all(Array.from({ length: 20 }, () => subject.report()));
      expect(first[0]).toMatchObject({ ready: false, dependencies: { 'kms:default': 'unavailable' } });
      for (let round = 0; round < 3; round += 1) {
        clock.advanceMs(CACHE_MS);
        await Promise.all(Array.from({ length: 20 }, () => subject.report()));
      }
      expect(hung.calls).toBe(1);
      expect(redis.calls).toBe(4);

      // The late answer of the one call counts; the round after that calls the dependency anew.
      hung.mode = 'answer';
      hung.release();
      clock.advanceMs(CACHE_MS);
      expect(await subject.report()).toMatchObject({ ready: true });
      expect(hung.calls).toBe(1);
      clock.advanceMs(CACHE_MS);
      expect(await subject.report()).toMatchObject({ ready: true });
      expect(hung.calls).toBe(2);
    });
  });

  describe('when a check throws instead of rejecting', () => {
    it('reports that dependency unavailable', async () => {
      const subject = readiness([
        {
          name: 'audit-file',
          check: () => {
            throw new Error('sync failure');
          },
        },
      ]);
      expect(await subject.report()).toMatchObject({
        ready: false,
        dependencies: { 'audit-file': 'unavailable' },
      });
    });
  });

  describe('when the cache is off (cacheMs 0)', () => {
    it('still shares one round between concurrent callers, and checks again for the next caller', async () => {
      const kms = new CountedCheck('kms:default');
      const subject = readiness([kms], 0);
      await Promise.all(Array.from({ length: 10 }, () => subject.report()));
      expect(kms.calls).toBe(1);
      await subject.report();
      expect(kms.calls).toBe(2);
    });
  });
});
