import type { AuditRecord } from '../audit/audit-record';

/**
 * Durable, append-only audit trail. Contract: `append` resolves only once the record is durable
 * (fsync'd or committed) and chained to its predecessor; a failure rejects with
 * `upstream_unavailable` and nothing may be reported as signed.
 */
export interface AuditSink {
  append(record: AuditRecord): Promise<void>;
  close(): Promise<void>;
}
