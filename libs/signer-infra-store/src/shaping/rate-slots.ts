import { SignerError, type RateLimit } from '@signer/core';

/** The `limit` a refused slot reports (`signer_quota_throttled_total{limit="kms"}`). */
export const RATE_SHAPER_LIMIT = 'kms';

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** What asking for the next slot of a key decided. */
export type SlotDecision =
  { granted: true; waitMs: number; nextFreeMs: number } | { granted: false; retryAfterMs: number };

/**
 * A limit that is not a positive finite rate or a non-negative wait is a wiring bug; refusing it
 * here keeps a bad value from turning into "unlimited" (a NaN interval compares false everywhere).
 */
export function assertRateLimit(limit: RateLimit): void {
  if (!Number.isFinite(limit.maxRps) || limit.maxRps <= 0) {
    throw new RangeError(`maxRps: expected a positive finite number, got ${String(limit.maxRps)}`);
  }
  if (!Number.isFinite(limit.maxWaitMs) || limit.maxWaitMs < 0) {
    throw new RangeError(`maxWaitMs: expected a non-negative number, got ${String(limit.maxWaitMs)}`);
  }
}

export function slotIntervalMs(limit: RateLimit): number {
  return 1000 / limit.maxRps;
}

/**
 * GCRA with a burst of one: slots are spaced exactly `1000 / maxRps` ms apart, so no window of one
 * second ever holds more than `maxRps` slot starts. `nextFreeMs` is the earliest start not yet
 * handed out; a caller whose slot is more than `maxWaitMs` away is refused and reserves nothing.
 */
export function reserveSlot(nextFreeMs: number | undefined, nowMs: number, limit: RateLimit): SlotDecision {
  const start = Math.max(nextFreeMs ?? nowMs, nowMs);
  const waitMs = start - nowMs;
  if (waitMs > limit.maxWaitMs) return { granted: false, retryAfterMs: waitMs - limit.maxWaitMs };
  return { granted: true, waitMs, nextFreeMs: start + slotIntervalMs(limit) };
}

export function slotRefused(key: string, retryAfterMs: number): SignerError {
  return new SignerError('plan_throttled', `rate limit of "${key}" reached: no slot within the wait bound`, {
    limit: RATE_SHAPER_LIMIT,
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  });
}
