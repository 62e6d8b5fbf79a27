import type { PlanLimits } from '../model';

export interface QuotaSubject {
  licenseId: string;
  tenant: string;
}

/** A reserved concurrency slot (and daily unit). Must be released exactly once. */
export interface QuotaLease {
  /** Whole tokens left in the QPS bucket after this request. */
  readonly qpsRemaining: number;
  /** `signed` keeps the daily unit; `failed` gives it back. Idempotent. */
  release(outcome: 'signed' | 'failed'): Promise<void>;
}

/**
 * Enforces QPS (token bucket), concurrency (leased slots), and the UTC daily cap for a licence.
 * Contract: refuses with `plan_throttled` (with `retryAfterSeconds` and `limit`) when any limit is
 * exhausted; a store it cannot reach is `upstream_unavailable`, never an allow.
 */
export interface QuotaGate {
  acquire(subject: QuotaSubject, limits: PlanLimits): Promise<QuotaLease>;
}
