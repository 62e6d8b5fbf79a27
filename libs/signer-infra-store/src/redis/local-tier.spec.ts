import { localTtlSeconds } from './local-tier';

describe('localTtlSeconds (how long a replica keeps what it read from Redis)', () => {
  it('is the earlier of the shared expiry and maxSeconds from now', () => {
    expect(localTtlSeconds(60_000, 0, 5)).toBe(5);
    expect(localTtlSeconds(2_000, 0, 5)).toBe(2);
    expect(localTtlSeconds(10_500, 10_000, 5)).toBe(0.5);
  });

  it('keeps nothing for an expired entry or with maxSeconds 0', () => {
    expect(localTtlSeconds(100, 100, 5)).toBeLessThanOrEqual(0);
    expect(localTtlSeconds(60_000, 0, 0)).toBe(0);
  });

  it('refuses a negative or non-numeric maxSeconds', () => {
    expect(() => localTtlSeconds(0, 0, -1)).toThrow(RangeError);
    expect(() => localTtlSeconds(0, 0, Number.NaN)).toThrow(RangeError);
  });
});
