import type { Pool } from 'pg';
import type { AuditLookup } from '@signer/core';
import { AUDIT_TABLE, CHAIN_RECORDS_TABLE } from './migrations';
import { postgresAuditError } from './pg-errors';
import { createAuditPool, type PostgresAuditSinkOptions } from './postgres-audit-sink';

/**
 * {@link AuditLookup} on the PostgreSQL trail: the writer chains and the version 1 table, by their
 * UNIQUE `audit_id` index. Only committed rows are seen, so a record whose INSERT is still in doubt
 * reads as absent (the ceremony outbox asks only after its writer has settled or its lease ended).
 * Opened after the sink, which brings the schema to this build's version.
 */
export class PostgresAuditLookup implements AuditLookup {
  private constructor(private readonly pool: Pool) {}

  static open(
    options: Pick<PostgresAuditSinkOptions, 'connectionString' | 'connectTimeoutMs' | 'queryTimeoutMs'>,
  ): PostgresAuditLookup {
    return new PostgresAuditLookup(createAuditPool({ ...options, poolSize: 1 }));
  }

  async recorded(auditIds: readonly string[]): Promise<ReadonlySet<string>> {
    if (auditIds.length === 0) return new Set();
    try {
      const result = await this.pool.query<{ audit_id: string }>(
        `SELECT audit_id FROM ${CHAIN_RECORDS_TABLE} WHERE audit_id = ANY($1::text[])
         UNION SELECT audit_id FROM ${AUDIT_TABLE} WHERE audit_id = ANY($1::text[])`,
        [auditIds],
      );
      return new Set(result.rows.map((row) => row.audit_id));
    } catch (cause) {
      throw postgresAuditError('cannot read the PostgreSQL audit trail', cause);
    }
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
