import type { StoredOutcome } from '@signer/core';
import { requirePositiveInteger } from '../options';

/** A retry of a finished request replays its first answer for this long (contract §2.1: 24 h). */
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/**
 * How long a claim holds its key without completing: the default request timeout (30 s) plus a
 * margin for the slowest upstream call. Past it a replica that died mid-request no longer blocks
 * the key; the next retry runs.
 */
export const DEFAULT_IDEMPOTENCY_LEASE_SECONDS = 60;
/** A finished record is never evicted to make room before this age, whatever the byte pressure. */
export const DEFAULT_IDEMPOTENCY_MIN_RETENTION_SECONDS = 3600;
export const DEFAULT_IDEMPOTENCY_MAX_BYTES_PER_TENANT = 64 * 1024 * 1024;
export const DEFAULT_IDEMPOTENCY_MAX_BYTES = 256 * 1024 * 1024;
/**
 * Charged per record on top of its JSON: the key, the bookkeeping entries and the container
 * overhead. Measured for small completed records (Node 20, Redis 7): ~400 B in the memory store's
 * heap, ~610 B of Redis `used_memory` (record, expiry, two sorted-set entries, one hash field).
 * It makes the byte budget a count bound too: a flood of tiny records stops at `maxBytes / 768`.
 */
export const IDEMPOTENCY_RECORD_OVERHEAD_BYTES = 768;

/** Lifetimes and byte budgets shared by the memory and Redis stores. */
export interface IdempotencyLimitsOptions {
  /** How long a completed record is kept (and replayed). */
  ttlSeconds?: number;
  /** How long a claim holds its key before it lapses (see {@link DEFAULT_IDEMPOTENCY_LEASE_SECONDS}). */
  leaseSeconds?: number;
  /** Under byte pressure, completed records older than this may be evicted (oldest first). */
  minRetentionSeconds?: number;
  /** Bytes of records (JSON + per-record overhead) one tenant may hold. */
  maxBytesPerTenant?: number;
  /** Bytes of records all tenants together may hold. */
  maxBytes?: number;
}

export interface IdempotencyLimits {
  ttlMs: number;
  leaseMs: number;
  minRetentionMs: number;
  maxBytesPerTenant: number;
  maxBytes: number;
}

export function idempotencyLimits(options: IdempotencyLimitsOptions): IdempotencyLimits {
  const ttlSeconds = requirePositiveInteger(
    'ttlSeconds',
    options.ttlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS,
  );
  const minRetentionSeconds = options.minRetentionSeconds ?? DEFAULT_IDEMPOTENCY_MIN_RETENTION_SECONDS;
  if (
    !Number.isSafeInteger(minRetentionSeconds) ||
    minRetentionSeconds < 0 ||
    minRetentionSeconds > ttlSeconds
  ) {
    throw new RangeError(
      `minRetentionSeconds: expected an integer from 0 to ttlSeconds (${ttlSeconds}), got ${String(minRetentionSeconds)}`,
    );
  }
  return {
    ttlMs: ttlSeconds * 1000,
    leaseMs:
      requirePositiveInteger('leaseSeconds', options.leaseSeconds ?? DEFAULT_IDEMPOTENCY_LEASE_SECONDS) *
      1000,
    minRetentionMs: minRetentionSeconds * 1000,
    maxBytesPerTenant: requirePositiveInteger(
      'maxBytesPerTenant',
      options.maxBytesPerTenant ?? DEFAULT_IDEMPOTENCY_MAX_BYTES_PER_TENANT,
    ),
    maxBytes: requirePositiveInteger('maxBytes', options.maxBytes ?? DEFAULT_IDEMPOTENCY_MAX_BYTES),
  };
}

/** The stored form of a record, the same in both stores (so both charge the same bytes). */
export interface RecordJson {
  fingerprint: string;
  /** Set while the record is a claim: only the claim's holder may complete or release it. */
  claimId?: string;
  outcome?: StoredOutcome;
}

export function pendingJson(fingerprint: string, claimId: string): string {
  return JSON.stringify({ fingerprint, claimId } satisfies RecordJson);
}

export function doneJson(fingerprint: string, outcome: StoredOutcome): string {
  return JSON.stringify({ fingerprint, outcome } satisfies RecordJson);
}

/** What a record costs against the budgets: its stored JSON in bytes plus the fixed overhead. */
export function recordCost(json: string): number {
  return Buffer.byteLength(json, 'utf8') + IDEMPOTENCY_RECORD_OVERHEAD_BYTES;
}

/** Seconds until a record completed at `completedAtMs` may be evicted; at least 1. */
export function secondsUntilEvictable(
  completedAtMs: number,
  limits: IdempotencyLimits,
  nowMs: number,
): number {
  return Math.max(1, Math.ceil((completedAtMs + limits.minRetentionMs - nowMs) / 1000));
}
