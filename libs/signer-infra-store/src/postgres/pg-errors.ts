import { SignerError } from '@signer/core';

/** First key of the two-key advisory locks every Signer table takes (ASCII "SG"). */
export const AUDIT_LOCK_CLASS = 0x5347;

/**
 * Second keys, one per purpose, in one place so two purposes can never share a lock. 1 was the
 * schema-v1 global chain lock: a v1 build rolled back onto a v2 schema still takes it.
 */
export const LOCK_KEYS = {
  legacyChain: 1,
  auditMigration: 2,
  auditCheckpoint: 3,
  ceremonySchema: 4,
  stateSchema: 5,
} as const;

/** The SQLSTATE of a PostgreSQL error, if the value is one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Fail closed: any PostgreSQL failure on the audit path is `upstream_unavailable` (upstream audit). */
export function postgresAuditError(message: string, cause?: unknown): SignerError {
  return new SignerError('upstream_unavailable', message, { upstream: 'audit', cause, retryAfterSeconds: 1 });
}
