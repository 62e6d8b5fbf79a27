import { numberSetting, readSettings } from './settings';

describe('numberSetting', () => {
  describe('when the variable is unset or empty', () => {
    it('returns the default', () => {
      expect(numberSetting({}, 'BENCH_SECONDS', 10, 240)).toBe(10);
      expect(numberSetting({ BENCH_SECONDS: '' }, 'BENCH_SECONDS', 10, 240)).toBe(10);
    });
  });

  describe('when it is outside (0, max] or not a number', () => {
    it('throws, saying what was expected', () => {
      for (const raw of ['0', '241', 'ten', '-1']) {
        expect(() => numberSetting({ BENCH_SECONDS: raw }, 'BENCH_SECONDS', 10, 240)).toThrow(
          `BENCH_SECONDS: expected a number in (0, 240], got ${raw}`,
        );
      }
    });
  });
});

describe('readSettings', () => {
  describe('when the environment sets the bench variables', () => {
    it('reads them, rounding counts', () => {
      const settings = readSettings({
        BENCH_SECONDS: '90',
        BENCH_ROUNDS: '1',
        BENCH_CONNECTIONS: '7.6',
        BENCH_PIN: '0',
        BENCH_KEEP: '1',
        BENCH_CPU_PROF: '1',
        BENCH_VARIANTS: 'none',
      });
      expect(settings).toEqual({
        seconds: 90,
        warmupSeconds: 3,
        cryptoSeconds: 5,
        connections: 8,
        rounds: 1,
        pinned: false,
        cpuProfile: true,
        keep: true,
        variants: [],
      });
    });
  });
});
