import type { AuditSink } from '@signer/core';
import { FileAuditSink, PostgresAuditSink } from '@signer/infra-store';
import type { SignerConfig } from '../config/config-schema';
import type { ReadinessCheck } from './readiness';

/**
 * The audit trail (contract §8): `file` (append-only JSON lines, the embedded default) or
 * `postgres` (one hash chain per replica, tied together by a checkpoint chain; the schema is
 * migrated at start when the role may, otherwise the Signer refuses to start — see
 * docs/operations.md).
 */
export async function createAuditSink(config: SignerConfig): Promise<AuditSink> {
  if (config.audit.sink === 'postgres') {
    return PostgresAuditSink.open({
      connectionString: config.audit.postgresUrl as string,
      batchDelayMs: config.audit.batchDelayMs,
      checkpointIntervalMs: config.audit.checkpointIntervalMs,
    });
  }
  return FileAuditSink.open({
    filePath: config.audit.filePath as string,
    batchDelayMs: config.audit.batchDelayMs,
  });
}

/** `/readyz` entries for the audit trail's backing service (the file sink is checked by path). */
export function auditReadiness(sink: AuditSink): ReadinessCheck[] {
  return sink instanceof PostgresAuditSink ? [{ name: 'postgres', check: () => sink.ping() }] : [];
}
