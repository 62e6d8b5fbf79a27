// A latency histogram that crosses process boundaries: the audit bench's writer processes each
// keep one, send its counts over IPC, and the bench merges them before reading percentiles. Keeping
// every sample would send hundreds of thousands of numbers per process; log-spaced buckets (2 %
// apart) bound both the message and the error of a percentile.

/** Smallest latency told apart; anything faster lands in the first bucket. */
export const HISTOGRAM_MIN_MS = 0.05;
/** Each bucket's upper bound is this factor times the previous one. */
export const HISTOGRAM_GROWTH = 1.02;
/** Buckets up to about 2 minutes; slower samples land in the last one. */
export const HISTOGRAM_BUCKETS = Math.ceil(Math.log(120_000 / HISTOGRAM_MIN_MS) / Math.log(HISTOGRAM_GROWTH));

/** Empty bucket counts. */
export const emptyHistogram = (): number[] => new Array<number>(HISTOGRAM_BUCKETS).fill(0);

/** The bucket a latency falls in. */
export function bucketOf(ms: number): number {
  if (!(ms > HISTOGRAM_MIN_MS)) return 0;
  const bucket = Math.ceil(Math.log(ms / HISTOGRAM_MIN_MS) / Math.log(HISTOGRAM_GROWTH));
  return Math.min(bucket, HISTOGRAM_BUCKETS - 1);
}

/** A bucket's upper bound in ms: what a percentile falling in it reports (never understated). */
export const bucketUpperMs = (bucket: number): number => HISTOGRAM_MIN_MS * HISTOGRAM_GROWTH ** bucket;

export function record(counts: number[], ms: number): void {
  const bucket = bucketOf(ms);
  counts[bucket] = (counts[bucket] ?? 0) + 1;
}

/** The bucket-wise sum of several histograms. */
export function mergeHistograms(histograms: readonly (readonly number[])[]): number[] {
  const merged = emptyHistogram();
  for (const counts of histograms) counts.forEach((count, i) => (merged[i] = (merged[i] ?? 0) + count));
  return merged;
}

/** The latency at quantile `q` in (0, 1] (upper bound of its bucket); 0 for an empty histogram. */
export function percentileMs(counts: readonly number[], q: number): number {
  if (!(q > 0 && q <= 1)) throw new RangeError(`q: expected a quantile in (0, 1], got ${q}`);
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return 0;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let bucket = 0; bucket < counts.length; bucket += 1) {
    seen += counts[bucket] ?? 0;
    if (seen >= rank) return bucketUpperMs(bucket);
  }
  return bucketUpperMs(counts.length - 1);
}
