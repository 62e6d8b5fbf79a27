/** How fast calls under one key may start, and how long a caller may queue for a slot. */
export interface RateLimit {
  /** Calls per second never exceeded by the callers sharing the shaper's store (> 0). */
  maxRps: number;
  /** Longest a caller waits for its slot before being refused (>= 0). */
  maxWaitMs: number;
}

/**
 * Spaces the calls made under one key (e.g. one KMS key) so that, across every replica sharing the
 * store, they start at most `maxRps` times per second. Contract: `acquire` resolves when the
 * caller's slot has come (after waiting at most `maxWaitMs`); when the next free slot is further
 * away it refuses with `plan_throttled` (limit `kms`, `retryAfterSeconds`) and reserves nothing;
 * a store it cannot reach is `upstream_unavailable`, never an allow.
 */
export interface RateShaper {
  acquire(key: string, limit: RateLimit): Promise<void>;
}
