import {
  bucketOf,
  bucketUpperMs,
  emptyHistogram,
  HISTOGRAM_BUCKETS,
  HISTOGRAM_GROWTH,
  mergeHistograms,
  percentileMs,
  record,
} from './latency-histogram';

function histogramOf(samples: number[]): number[] {
  const counts = emptyHistogram();
  for (const ms of samples) record(counts, ms);
  return counts;
}

describe('latency histogram', () => {
  describe('when a latency is recorded', () => {
    it('lands in a bucket whose upper bound is at most 2 % above it', () => {
      for (const ms of [0.3, 1, 2.5, 17, 240, 5000]) {
        const upper = bucketUpperMs(bucketOf(ms));
        expect(upper).toBeGreaterThanOrEqual(ms * 0.999_999);
        expect(upper).toBeLessThanOrEqual(ms * HISTOGRAM_GROWTH * 1.000_001);
      }
    });

    it('clamps latencies beyond the range into the first and last buckets', () => {
      expect(bucketOf(0)).toBe(0);
      expect(bucketOf(-1)).toBe(0);
      expect(bucketOf(10_000_000)).toBe(HISTOGRAM_BUCKETS - 1);
    });
  });

  describe('when percentiles are read', () => {
    it('reports the p50 and p99 of the samples within a bucket', () => {
      const samples = Array.from({ length: 1000 }, (_, i) => i + 1); // 1 … 1000 ms
      const counts = histogramOf(samples);
      expect(percentileMs(counts, 0.5)).toBeGreaterThanOrEqual(500);
      expect(percentileMs(counts, 0.5)).toBeLessThanOrEqual(500 * HISTOGRAM_GROWTH);
      expect(percentileMs(counts, 0.99)).toBeGreaterThanOrEqual(990);
      expect(percentileMs(counts, 0.99)).toBeLessThanOrEqual(990 * HISTOGRAM_GROWTH);
    });

    it('answers 0 for an empty histogram and refuses a quantile outside (0, 1]', () => {
      expect(percentileMs(emptyHistogram(), 0.5)).toBe(0);
      expect(() => percentileMs(emptyHistogram(), 0)).toThrow('expected a quantile in (0, 1], got 0');
    });
  });

  describe('when histograms of several processes are merged', () => {
    it('gives the percentiles of all their samples together', () => {
      const fast = histogramOf(Array.from({ length: 90 }, () => 1));
      const slow = histogramOf(Array.from({ length: 10 }, () => 100));
      const merged = mergeHistograms([fast, slow]);
      expect(merged.reduce((a, b) => a + b, 0)).toBe(100);
      expect(percentileMs(merged, 0.5)).toBeLessThan(1.03);
      expect(percentileMs(merged, 0.99)).toBeGreaterThanOrEqual(100);
    });
  });
});
