import { LocalTier } from './local-tier';

describe('LocalTier', () => {
  it('keeps an entry until the earlier of its expiry and maxSeconds', () => {
    const tier = new LocalTier<string>(5);
    tier.set('capped', 'a', 60_000, 0);
    tier.set('expiring', 'b', 2_000, 0);
    expect(tier.get('capped', 4_999)).toBe('a');
    expect(tier.get('capped', 5_000)).toBeUndefined();
    expect(tier.get('expiring', 1_999)).toBe('b');
    expect(tier.get('expiring', 2_000)).toBeUndefined();
  });

  it('stores nothing already expired, and nothing at all with maxSeconds 0', () => {
    const tier = new LocalTier<string>(5);
    tier.set('past', 'x', 100, 100);
    expect(tier.get('past', 100)).toBeUndefined();
    const off = new LocalTier<string>(0);
    off.set('k', 'v', 60_000, 0);
    expect(off.get('k', 0)).toBeUndefined();
  });

  it('holds at most maxEntries, dropping the oldest first', () => {
    const tier = new LocalTier<number>(5, 3);
    [1, 2, 3, 4].forEach((n) => tier.set(`k${n}`, n, 10_000, 0));
    expect([1, 2, 3, 4].map((n) => tier.get(`k${n}`, 1))).toEqual([undefined, 2, 3, 4]);
  });

  it('refuses a negative or non-numeric maxSeconds', () => {
    expect(() => new LocalTier(-1)).toThrow(RangeError);
    expect(() => new LocalTier(Number.NaN)).toThrow(RangeError);
  });
});
