import type { Pool, PoolClient } from 'pg';
import { SignerError } from '@signer/core';
import {
  AUDIT_MIGRATIONS,
  AUDIT_MIGRATIONS_TABLE,
  AUDIT_SCHEMA_VERSION,
  BOOTSTRAP_SQL,
  type AuditMigration,
} from './migrations';
import { AUDIT_LOCK_CLASS, LOCK_KEYS, postgresAuditError, sqlState } from './pg-errors';

const MIGRATION_LOCK = LOCK_KEYS.auditMigration;
const UNDEFINED_TABLE = '42P01';
const INVALID_SCHEMA_NAME = '3F000';
const INSUFFICIENT_PRIVILEGE = '42501';

/** The highest applied migration, 0 when the schema does not exist yet. */
async function readAuditSchemaVersion(client: Pool | PoolClient): Promise<number> {
  try {
    const result = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${AUDIT_MIGRATIONS_TABLE}`,
    );
    return result.rows[0]?.version ?? 0;
  } catch (error) {
    const state = sqlState(error);
    if (state === UNDEFINED_TABLE || state === INVALID_SCHEMA_NAME) return 0;
    throw postgresAuditError('cannot read the audit schema version', error);
  }
}

export interface MigrationResult {
  from: number;
  to: number;
  applied: number[];
}

/**
 * Applies every pending migration in one transaction under an advisory lock, so two replicas (or
 * an operator and a replica) never apply the same one twice. Needs a role that may create the
 * schema; the Signer's writer role cannot, by design.
 */
export async function migrateAuditSchema(
  pool: Pool,
  migrations: readonly AuditMigration[] = AUDIT_MIGRATIONS,
): Promise<MigrationResult> {
  const client = await pool.connect().catch((cause: unknown) => {
    throw postgresAuditError('cannot connect to PostgreSQL to migrate the audit schema', cause);
  });
  let failed: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [AUDIT_LOCK_CLASS, MIGRATION_LOCK]);
    await client.query(BOOTSTRAP_SQL);
    const from = await readAuditSchemaVersion(client);
    const applied: number[] = [];
    for (const migration of migrations.filter((m) => m.version > from)) {
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${AUDIT_MIGRATIONS_TABLE} (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    return { from, to: Math.max(from, ...applied), applied };
  } catch (error) {
    failed = error as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    if (sqlState(error) === INSUFFICIENT_PRIVILEGE) {
      throw new SignerError(
        'internal_error',
        `the audit schema needs migrating and this PostgreSQL role may not do it (${(error as Error).message}): ` +
          'run `signer audit migrate <owner postgres url>` as the schema owner',
        { cause: error },
      );
    }
    throw error instanceof SignerError ? error : postgresAuditError('audit schema migration failed', error);
  } finally {
    client.release(failed);
  }
}

/**
 * Start-up check: the schema must be at this build's version. Missing migrations are applied when
 * the configured role may do so; otherwise the Signer refuses to start, naming the command to run.
 * A newer schema is accepted: migrations are additive, so a rollback keeps working.
 */
export async function ensureAuditSchema(pool: Pool): Promise<MigrationResult> {
  const current = await readAuditSchemaVersion(pool);
  if (current >= AUDIT_SCHEMA_VERSION) return { from: current, to: current, applied: [] };
  return migrateAuditSchema(pool);
}
