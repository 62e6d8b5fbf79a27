/**
 * Asks the audit trail which records it holds. Used only where a record may or may not have been
 * written (a write whose outcome is unknown), so that it is written once and never twice: sinks
 * need not be idempotent by audit id (PostgreSQL refuses a second copy, failing its whole batch).
 * Contract: answers from durable (committed) records only; a failure rejects with
 * `upstream_unavailable` (upstream `audit`), never an empty answer.
 */
export interface AuditLookup {
  /** The subset of `auditIds` that are records of the trail. */
  recorded(auditIds: readonly string[]): Promise<ReadonlySet<string>>;
}
