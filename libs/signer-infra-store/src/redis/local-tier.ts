/** How long a replica may answer from its own memory what it last read from Redis. */
export const DEFAULT_LOCAL_TIER_SECONDS = 5;

/**
 * The TTL (seconds) of a replica-local copy of a value read from (or written to) Redis: until the
 * earlier of the expiry Redis gave the value and `maxSeconds` from now, so a local copy never
 * outlives the shared entry and every bound documented for it still holds. 0 or less: keep none.
 * The copies live in a {@link MemoryTtlCache}.
 */
export function localTtlSeconds(expiresAtMs: number, nowMs: number, maxSeconds: number): number {
  if (!(maxSeconds >= 0)) throw new RangeError('localSeconds: expected a non-negative number');
  return (Math.min(expiresAtMs, nowMs + maxSeconds * 1000) - nowMs) / 1000;
}
