import {
  SignerError,
  systemClock,
  type Clock,
  type PlanLimits,
  type QuotaGate,
  type QuotaLease,
  type QuotaSubject,
} from '@signer/core';
import { requirePositiveNumber } from '../options';
import {
  bucketCapacity,
  hasToken,
  limitValue,
  refill,
  secondsUntilNextUtcMidnight,
  secondsUntilOneToken,
  utcDay,
  wholeTokens,
} from './quota-math';

/** Longer than any signing should take, short enough that a lost release frees its slot soon. */
export const DEFAULT_QUOTA_LEASE_SECONDS = 30;
/** A full concurrency pool frees up when any signing ends, typically well within a second. */
export const CONCURRENCY_RETRY_AFTER_SECONDS = 1;

export interface MemoryQuotaGateOptions {
  /** How long a concurrency slot may be held before it is reclaimed without a release. */
  leaseSeconds?: number;
  clock?: Clock;
}

interface LicenceState {
  tokens: number;
  refilledAtMs: number;
  /** When the bucket will be full again at the last seen rate: before that, state is not disposable. */
  fullAtMs: number;
  day: number;
  dailyUsed: number;
  /** lease id → expiry (epoch ms). */
  leases: Map<number, number>;
}

/**
 * Single-process {@link QuotaGate}, keyed by (tenant, licence). Every check runs before any state is
 * taken, and nothing awaits in between, so a refused request holds nothing and two requests
 * cannot both take the last unit.
 *
 * Limits of 0 (or NaN) allow nothing: `dailyCap: 0` refuses until the plan changes, with
 * `Retry-After` at the next UTC midnight; `concurrency: 0` and `qps: 0` refuse with 1 second.
 */
export class MemoryQuotaGate implements QuotaGate {
  private readonly states = new Map<string, LicenceState>();
  private readonly leaseMs: number;
  private readonly clock: Clock;
  private nextLeaseId = 1;
  private prunedDay = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryQuotaGateOptions = {}) {
    this.leaseMs =
      requirePositiveNumber('leaseSeconds', options.leaseSeconds ?? DEFAULT_QUOTA_LEASE_SECONDS) * 1000;
    this.clock = options.clock ?? systemClock;
  }

  /** Licences with state held; exposed for tests and metrics. */
  get licenceCount(): number {
    return this.states.size;
  }

  async acquire(subject: QuotaSubject, limits: PlanLimits): Promise<QuotaLease> {
    const nowMs = this.clock.now().getTime();
    const today = utcDay(nowMs);
    this.pruneOnNewDay(today, nowMs);
    const capacity = bucketCapacity(limits);
    const state = this.stateFor(subject, capacity, nowMs);
    if (state.day !== today) {
      state.day = today;
      state.dailyUsed = 0;
    }

    const dailyCap = limitValue(limits.dailyCap);
    if (state.dailyUsed >= dailyCap) {
      throw throttled(
        'daily',
        secondsUntilNextUtcMidnight(nowMs),
        `daily cap reached: expected at most ${dailyCap} signings per UTC day, ${state.dailyUsed} used`,
      );
    }
    // Leases are kept in the order they were taken, each for one lease length, so they expire
    // oldest first: only the expired head is visited, not every lease in flight. (Were the clock
    // to step back, a later lease could expire before an earlier one and is reclaimed once the
    // earlier one is: it holds its slot longer, never shorter.)
    for (const [id, expiresAtMs] of state.leases) {
      if (expiresAtMs > nowMs) break;
      state.leases.delete(id);
    }
    const concurrency = limitValue(limits.concurrency);
    if (state.leases.size >= concurrency) {
      throw throttled(
        'concurrency',
        CONCURRENCY_RETRY_AFTER_SECONDS,
        `concurrency limit reached: expected at most ${concurrency} in-flight signings, ${state.leases.size} in flight`,
      );
    }
    const qps = limitValue(limits.qps);
    if (!(qps > 0)) throw throttled('qps', 1, `qps limit reached: expected a positive rate, got ${qps}`);
    state.tokens = refill(state.tokens, nowMs - state.refilledAtMs, qps, capacity);
    state.refilledAtMs = Math.max(state.refilledAtMs, nowMs);
    if (!hasToken(state.tokens)) {
      throw throttled(
        'qps',
        secondsUntilOneToken(state.tokens, qps),
        `qps limit reached: expected a whole token, got ${state.tokens.toFixed(3)} of ${capacity}`,
      );
    }

    state.tokens -= 1;
    state.fullAtMs = state.refilledAtMs + ((capacity - state.tokens) * 1000) / qps;
    state.dailyUsed += 1;
    const leaseId = this.nextLeaseId++;
    state.leases.set(leaseId, nowMs + this.leaseMs);
    return leaseOf(state, leaseId, today, wholeTokens(state.tokens));
  }

  private stateFor(subject: QuotaSubject, capacity: number, nowMs: number): LicenceState {
    // Keyed by tenant and licence: two tenants never share counters, even for one licence id.
    const key = `${subject.tenant}\u0000${subject.licenseId}`;
    let state = this.states.get(key);
    if (state === undefined) {
      // A licence not seen before starts with a full bucket: its first burst is allowed.
      state = {
        tokens: capacity,
        refilledAtMs: nowMs,
        fullAtMs: nowMs,
        day: utcDay(nowMs),
        dailyUsed: 0,
        leases: new Map(),
      };
      this.states.set(key, state);
    }
    return state;
  }

  /**
   * Once per UTC day, forget licences whose state now equals a fresh one (yesterday's counter,
   * no live lease, a full bucket), so memory tracks the licences active today, not all ever seen.
   */
  private pruneOnNewDay(today: number, nowMs: number): void {
    if (today <= this.prunedDay) return;
    this.prunedDay = today;
    for (const [key, state] of this.states) {
      const liveLease = [...state.leases.values()].some((expiresAtMs) => expiresAtMs > nowMs);
      if (state.day < today && !liveLease && state.fullAtMs <= nowMs) this.states.delete(key);
    }
  }
}

function throttled(
  limit: 'qps' | 'concurrency' | 'daily',
  retryAfterSeconds: number,
  message: string,
): SignerError {
  return new SignerError('plan_throttled', message, { limit, retryAfterSeconds });
}

function leaseOf(state: LicenceState, leaseId: number, day: number, qpsRemaining: number): QuotaLease {
  let released = false;
  return {
    qpsRemaining,
    async release(outcome) {
      if (released) return;
      released = true;
      state.leases.delete(leaseId);
      // A unit taken on an earlier UTC day is not refunded into today's count.
      if (outcome === 'failed' && state.day === day && state.dailyUsed > 0) state.dailyUsed -= 1;
    },
  };
}
