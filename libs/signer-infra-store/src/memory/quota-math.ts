import type { PlanLimits } from '@signer/core';

export const MS_PER_UTC_DAY = 86_400_000;
/** Absorbs binary floating-point error so that e.g. 0.1 s at 10 qps counts as a whole token. */
const EPSILON = 1e-9;

/**
 * Days since the epoch, UTC. Epoch milliseconds ignore leap seconds, so every UTC day is exactly
 * {@link MS_PER_UTC_DAY} long and integer division finds midnight without calendar code.
 */
export function utcDay(nowMs: number): number {
  return Math.floor(nowMs / MS_PER_UTC_DAY);
}

export function secondsUntilNextUtcMidnight(nowMs: number): number {
  return Math.max(1, Math.ceil(((utcDay(nowMs) + 1) * MS_PER_UTC_DAY - nowMs) / 1000));
}

/**
 * A limit that is not a number allows nothing: a configuration or PoE mistake must never turn
 * into "unlimited" (comparisons with NaN are always false).
 */
export function limitValue(value: number): number {
  return Number.isNaN(value) ? 0 : value;
}

/** A burst below one token could never admit a request, so it falls back to one second of QPS. */
export function bucketCapacity(limits: PlanLimits): number {
  const burst = limitValue(limits.burst);
  return burst >= 1 ? burst : Math.max(limitValue(limits.qps), 1);
}

/** Continuous refill; `elapsedMs * qps / 1000` keeps whole-millisecond maths exact for integer QPS. */
export function refill(tokens: number, elapsedMs: number, qps: number, capacity: number): number {
  if (elapsedMs <= 0) return Math.min(capacity, tokens);
  return Math.min(capacity, tokens + (elapsedMs * qps) / 1000);
}

export function hasToken(tokens: number): boolean {
  return tokens >= 1 - EPSILON;
}

export function wholeTokens(tokens: number): number {
  return Math.max(0, Math.floor(tokens + EPSILON));
}

/** `Retry-After` for the QPS limit: whole seconds until one token is back, never less than 1. */
export function secondsUntilOneToken(tokens: number, qps: number): number {
  return Math.max(1, Math.ceil((1 - tokens) / qps - EPSILON));
}
