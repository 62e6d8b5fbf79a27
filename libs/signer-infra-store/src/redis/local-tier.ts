/** How long a replica may answer from its own memory what it last read from Redis. */
export const DEFAULT_LOCAL_TIER_SECONDS = 5;
const DEFAULT_LOCAL_TIER_ENTRIES = 10_000;

/**
 * A replica-local copy of values read from (or written to) Redis, each kept until the earlier of
 * its Redis expiry and `maxSeconds` after it was read. It never serves a value past the expiry
 * Redis gave it, so every bound documented for the shared entry still holds; what it saves is the
 * round trip for the same key within a few seconds. Bounded; oldest first out. `maxSeconds` 0
 * turns it off.
 */
export class LocalTier<V> {
  private readonly entries = new Map<string, { value: V; untilMs: number }>();

  constructor(
    private readonly maxSeconds = DEFAULT_LOCAL_TIER_SECONDS,
    private readonly maxEntries = DEFAULT_LOCAL_TIER_ENTRIES,
  ) {
    if (!(maxSeconds >= 0)) throw new RangeError('maxSeconds: expected a non-negative number');
  }

  get(key: string, nowMs: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.untilMs > nowMs) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  /** Keeps `value` until `min(expiresAtMs, now + maxSeconds)`. */
  set(key: string, value: V, expiresAtMs: number, nowMs: number): void {
    const untilMs = Math.min(expiresAtMs, nowMs + this.maxSeconds * 1000);
    if (!(untilMs > nowMs)) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, untilMs });
  }
}
