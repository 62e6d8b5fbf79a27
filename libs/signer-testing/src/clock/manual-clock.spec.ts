import { ManualClock } from './manual-clock';

describe('ManualClock', () => {
  describe('when pinned at a start instant', () => {
    it('stands still until the test moves it, by milliseconds or seconds', () => {
      const clock = new ManualClock('2026-06-01T12:00:00.000Z');
      expect(clock.now().toISOString()).toBe('2026-06-01T12:00:00.000Z');
      clock.advanceMs(1500);
      clock.advanceSeconds(2);
      expect(clock.now().toISOString()).toBe('2026-06-01T12:00:03.500Z');
      expect(clock.seconds()).toBe(Date.parse('2026-06-01T12:00:03Z') / 1000);
    });

    it('jumps to a set instant and back to the start on reset', () => {
      const clock = new ManualClock(Date.parse('2026-06-01T12:00:00Z'));
      clock.set('2026-06-01T23:59:50Z');
      expect(clock.now().toISOString()).toBe('2026-06-01T23:59:50.000Z');
      clock.reset();
      expect(clock.now().toISOString()).toBe('2026-06-01T12:00:00.000Z');
    });
  });

  describe('when started without an instant', () => {
    it('runs with the real time plus what the test added', () => {
      const clock = new ManualClock();
      clock.advanceSeconds(3600);
      const before = Date.now();
      const now = clock.now().getTime();
      expect(now).toBeGreaterThanOrEqual(before + 3_600_000);
      expect(now).toBeLessThanOrEqual(Date.now() + 3_600_000);
    });
  });
});
