// DPoP proofs made before the timed window, so the load generator spends its time on requests.
// Each second of the window has its own bucket of proofs whose `iat` is that second: a proof is
// always taken from a bucket near the current time, so every proof sent is fresh whatever the
// actual rate turns out to be (the service accepts `iat` within its 30 s clock skew).
import type { DpopProofFactory } from './dpop';
import type { ProofStats } from './types';

/** How far a pre-made proof's `iat` may be from the time it is sent: well inside the skew. */
export const MAX_IAT_DISTANCE_SECONDS = 20;
/** Bounds the pool's memory (a proof is ~0.6 KB); beyond it proofs are made inside the window. */
export const MAX_POOL_PROOFS = 250_000;
/** A conservative rate of proof making, to plan when the window will start. */
const PROOFS_PER_SECOND_ESTIMATE = 15_000;

export interface PoolOptions {
  size: number;
  /** Every proof sent at most once (the signer checks replay); else the pool is cycled. */
  unique: boolean;
}

export interface ProofPool {
  generationMs: number;
  take(): string;
  stats(): ProofStats;
}

/**
 * `unique`: every proof is sent at most once, from the bucket of the current second or the nearest
 * one with proofs left; when none is left within {@link MAX_IAT_DISTANCE_SECONDS}, a proof is made
 * on the spot and counted. Otherwise (a floor that checks nothing) the pool is cycled.
 */
export function proofPool(
  factory: DpopProofFactory,
  { size, seconds, unique }: PoolOptions & { seconds: number },
): ProofPool {
  const total = Math.min(size, MAX_POOL_PROOFS);
  const started = performance.now();
  const buckets = unique ? Math.ceil(seconds) + 2 : 1;
  const perBucket = Math.ceil(total / buckets);
  // Planned start of the window (epoch seconds): bucket k holds proofs with iat = start + k.
  const start = Math.floor(Date.now() / 1000) + Math.ceil(total / PROOFS_PER_SECOND_ESTIMATE);
  const pool = Array.from({ length: buckets }, (_, k) =>
    Array.from({ length: perBucket }, () => factory.proof(start + k)),
  );
  const generationMs = performance.now() - started;
  let cycled = 0;
  let used = 0;
  let madeInWindow = 0;

  function fromBuckets(): string | undefined {
    const now = Math.floor(Date.now() / 1000) - start;
    for (let distance = 0; distance <= MAX_IAT_DISTANCE_SECONDS; distance += 1) {
      for (const k of distance === 0 ? [now] : [now + distance, now - distance]) {
        const proof = pool[k]?.pop();
        if (proof !== undefined) return proof;
      }
    }
    return undefined;
  }

  return {
    generationMs,
    take() {
      const cycledProof = unique ? undefined : pool[0]?.[cycled++ % perBucket];
      if (cycledProof !== undefined) return cycledProof;
      const proof = unique ? fromBuckets() : undefined;
      if (proof !== undefined) {
        used += 1;
        return proof;
      }
      madeInWindow += 1;
      return factory.proof();
    },
    stats: () => ({ poolSize: perBucket * buckets, used: unique ? used : cycled, madeInWindow }),
  };
}
