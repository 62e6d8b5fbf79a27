export interface TracedLimits {
  qps: number;
  burst: number;
  concurrency: number;
}

/**
 * Replays, in Redis's own serial order (MONITOR), what the quota scripts did to one licence, and
 * runs the contract's token bucket and slot limit beside it as a reference model. The model reads
 * each attempt's instant from the script's own `ZREMRANGEBYSCORE … now`, so it judges every
 * attempt at exactly the time the script did: its admissions must equal the scripts' `ZADD`s.
 */
export class QuotaTrace {
  /** Live leases (id → expiry ms) as Redis holds them. */
  readonly live = new Map<string, number>();
  readonly added: Array<{ id: string; at: number }> = [];
  /** Leases a replica gave back (`ZREM`); a lease never released is an orphan that must expire. */
  readonly released = new Set<string>();
  maxLive = 0;
  attempts = 0;
  /** Each acquire attempt's instant (Redis time, ms), in order. */
  readonly attemptTimes: number[] = [];
  firstAttemptAt = Number.POSITIVE_INFINITY;
  lastAttemptAt = 0;
  /** Admissions the reference model grants for the same attempts. */
  modelAdmits = 0;
  private tokens: number | undefined;
  private refilledAt = 0;

  constructor(
    private readonly keys: { state: string; leases: string },
    private readonly limits: TracedLimits,
    /** Lease length: a lease's grant instant is its expiry score minus this. */
    private readonly leaseMs: number,
  ) {}

  observe(args: string[], source: string): void {
    if (source !== 'lua' || args[1] !== this.keys.leases) return;
    const command = args[0].toUpperCase();
    if (command === 'ZREMRANGEBYSCORE') this.attempt(Number(args[3]));
    else if (command === 'ZADD') {
      this.live.set(args[3], Number(args[2]));
      this.added.push({ id: args[3], at: Number(args[2]) - this.leaseMs });
      this.maxLive = Math.max(this.maxLive, this.live.size);
    } else if (command === 'ZREM') {
      this.live.delete(args[2]);
      this.released.add(args[2]);
    }
  }

  /** Whole tokens the bucket allows between the first and last attempt: burst + qps × elapsed. */
  get bucketAllows(): number {
    return this.limits.burst + (this.limits.qps * (this.lastAttemptAt - this.firstAttemptAt)) / 1000;
  }

  private attempt(now: number): void {
    this.attempts += 1;
    this.attemptTimes.push(now);
    this.firstAttemptAt = Math.min(this.firstAttemptAt, now);
    this.lastAttemptAt = Math.max(this.lastAttemptAt, now);
    for (const [id, expiry] of this.live) if (expiry <= now) this.live.delete(id);
    if (this.live.size >= this.limits.concurrency) return;
    const { qps, burst } = this.limits;
    if (this.tokens === undefined) {
      this.tokens = burst;
      this.refilledAt = now;
    }
    const elapsed = now - this.refilledAt;
    this.tokens =
      elapsed > 0 ? Math.min(burst, this.tokens + (elapsed * qps) / 1000) : Math.min(burst, this.tokens);
    this.refilledAt = Math.max(this.refilledAt, now);
    if (this.tokens < 1 - 1e-9) return;
    this.tokens -= 1;
    this.modelAdmits += 1;
  }
}
