import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '@signer/testing';
import { describeQuotaGateConformance, plan } from '../../test/quota-gate-conformance';
import { refusal } from '../../test/refusal';
import { MemoryQuotaGate } from './memory-quota-gate';

/** Noon: no test crosses a UTC day unless it says so. */
const START = '2026-06-01T12:00:00.000Z';

const subject = { licenseId: 'lic-1', tenant: 'tenant-a' };
const other = { licenseId: 'lic-2', tenant: 'tenant-a' };

describe('MemoryQuotaGate', () => {
  describe('conformance (manual clock)', () => {
    describeQuotaGateConformance(({ clock, leaseSeconds }) => new MemoryQuotaGate({ clock, leaseSeconds }));
  });

  // Expired leases are reclaimed from the oldest on, stopping at the first live one.
  describe('when some leases have expired and younger ones are still held', () => {
    it('reclaims every expired slot and keeps every live one', async () => {
      const clock = new ManualClock(START);
      const gate = new MemoryQuotaGate({ clock, leaseSeconds: 10 });
      const limits = plan({ concurrency: 4 });
      await gate.acquire(subject, limits); // t=0, expires at 10 s
      await gate.acquire(subject, limits); // t=0
      clock.advanceSeconds(4);
      const released = await gate.acquire(subject, limits); // t=4, released early
      await gate.acquire(subject, limits); // t=4, expires at 14 s
      await released.release('signed');
      clock.advanceSeconds(6); // t=10: the first two have expired, one is live
      await gate.acquire(subject, limits);
      await gate.acquire(subject, limits);
      await gate.acquire(subject, limits);
      expect((await refusal(gate.acquire(subject, limits))).limit).toBe('concurrency');
    });
  });

  describe('when a licence has been idle since an earlier UTC day', () => {
    it('forgets its state', async () => {
      const clock = new ManualClock(START);
      const gate = new MemoryQuotaGate({ clock });
      await (await gate.acquire(subject, plan())).release('signed');
      clock.advanceSeconds(86_400);
      await gate.acquire(other, plan());
      expect(gate.licenceCount).toBe(1);
    });

    it('keeps the state of a licence that still holds a lease', async () => {
      const clock = new ManualClock('2026-06-01T23:59:50.000Z');
      const gate = new MemoryQuotaGate({ clock });
      await gate.acquire(subject, plan({ concurrency: 1 }));
      clock.advanceSeconds(20);
      await gate.acquire(other, plan());
      expect(gate.licenceCount).toBe(2);
      expect((await refusal(gate.acquire(subject, plan({ concurrency: 1 })))).limit).toBe('concurrency');
    });
  });

  describe('when leaseSeconds is not positive', () => {
    it('throws a RangeError', () => {
      expect(() => new MemoryQuotaGate({ leaseSeconds: 0 })).toThrow(RangeError);
    });
  });
});
