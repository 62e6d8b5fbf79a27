import { describe, expect, it } from '@jest/globals';
import { manualClock } from '../../test/manual-clock';
import { describeQuotaGateConformance, plan } from '../../test/quota-gate-conformance';
import { refusal } from '../../test/refusal';
import { MemoryQuotaGate } from './memory-quota-gate';

const subject = { licenseId: 'lic-1', tenant: 'tenant-a' };
const other = { licenseId: 'lic-2', tenant: 'tenant-a' };

describe('MemoryQuotaGate', () => {
  describe('conformance (manual clock)', () => {
    describeQuotaGateConformance(({ clock, leaseSeconds }) => new MemoryQuotaGate({ clock, leaseSeconds }));
  });

  describe('when a licence has been idle since an earlier UTC day', () => {
    it('forgets its state', async () => {
      const clock = manualClock();
      const gate = new MemoryQuotaGate({ clock });
      await (await gate.acquire(subject, plan())).release('signed');
      clock.advanceSeconds(86_400);
      await gate.acquire(other, plan());
      expect(gate.licenceCount).toBe(1);
    });

    it('keeps the state of a licence that still holds a lease', async () => {
      const clock = manualClock('2026-06-01T23:59:50.000Z');
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
