import type { Pool, PoolClient } from 'pg';
import {
  SignerError,
  type Ceremony,
  type CeremonyPrincipal,
  type CeremonyStatus,
  type CeremonyStore,
} from '@signer/core';
import { createAuditPool } from '../postgres/postgres-audit-sink';
import { AUDIT_LOCK_CLASS, LOCK_KEYS, sqlState } from '../postgres/pg-errors';
import { assertNextRevision } from './ceremony-table';

export const CEREMONY_SCHEMA = 'signer_ceremonies';
export const CEREMONY_TABLE = `${CEREMONY_SCHEMA}.ceremonies`;
const MIGRATIONS_TABLE = `${CEREMONY_SCHEMA}.schema_migrations`;
/** Second key of the migration advisory lock (first: the audit trail's class; 1–2 audit, 3 managed state). */
const MIGRATION_LOCK = LOCK_KEYS.ceremonySchema;
const UNDEFINED_TABLE = '42P01';
const INVALID_SCHEMA_NAME = '3F000';

/**
 * Versioned, additive-only migrations of the ceremony table (the audit trail's rules: applied in
 * order, once, in one transaction under an advisory lock; never edited once released).
 */
export const CEREMONY_MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'ceremonies with a revision for compare-and-set',
    sql: `
CREATE TABLE ${CEREMONY_TABLE} (
  id         uuid        PRIMARY KEY,
  status     text        NOT NULL,
  revision   integer     NOT NULL CHECK (revision > 0),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  document   jsonb       NOT NULL
);
-- UUIDv7 ids sort by creation time: "newest first" is ORDER BY id DESC.
CREATE INDEX ceremonies_status_id ON ${CEREMONY_TABLE} (status, id DESC);
REVOKE ALL ON SCHEMA ${CEREMONY_SCHEMA} FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA ${CEREMONY_SCHEMA} FROM PUBLIC;
`,
  },
];
export const CEREMONY_SCHEMA_VERSION = CEREMONY_MIGRATIONS[CEREMONY_MIGRATIONS.length - 1].version;

export interface PostgresCeremonyStoreOptions {
  connectionString: string;
  poolSize?: number;
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
}

const storeError = (message: string, cause?: unknown) =>
  new SignerError('upstream_unavailable', message, { upstream: 'state', cause, retryAfterSeconds: 1 });

/**
 * {@link CeremonyStore} on PostgreSQL, shared by every replica. Compare-and-set is one statement
 * (`INSERT … ON CONFLICT DO NOTHING` for a new ceremony, `UPDATE … WHERE revision = expected`
 * otherwise): PostgreSQL's row lock makes the second of two concurrent updates re-check the
 * revision and match nothing, so the loser re-reads and its vote is judged again, never lost.
 */
export class PostgresCeremonyStore implements CeremonyStore {
  private constructor(private readonly pool: Pool) {}

  /** Connects and brings the schema to this build's version. */
  static async open(options: PostgresCeremonyStoreOptions): Promise<PostgresCeremonyStore> {
    const pool = createAuditPool({ poolSize: 2, ...options });
    try {
      await ensureCeremonySchema(pool);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new PostgresCeremonyStore(pool);
  }

  async get(id: string): Promise<Ceremony | undefined> {
    const rows = await this.query<{ document: Ceremony }>(
      `SELECT document FROM ${CEREMONY_TABLE} WHERE id = $1`,
      [id],
    );
    return rows[0]?.document;
  }

  async list(options: { status?: CeremonyStatus; limit: number }): Promise<Ceremony[]> {
    const rows = await this.query<{ document: Ceremony }>(
      `SELECT document FROM ${CEREMONY_TABLE} WHERE ($1::text IS NULL OR status = $1) ORDER BY id DESC LIMIT $2`,
      [options.status ?? null, Math.max(0, Math.trunc(options.limit))],
    );
    return rows.map((row) => row.document);
  }

  /**
   * One statement; the LIMIT stops the scan at `atMost`. The open statuses use the (status, id)
   * index; the principal and the expiry are read from the document (no migration needed).
   */
  async countOpen(initiator: CeremonyPrincipal, now: string, atMost: number): Promise<number> {
    const rows = await this.query<{ open: number }>(
      `SELECT count(*)::int AS open FROM (
         SELECT 1 FROM ${CEREMONY_TABLE}
         WHERE status IN ('pending', 'approved')
           AND document->'initiator'->>'sub' = $1
           AND coalesce(document->'initiator'->>'tenant', '') = $2
           AND (document->>'expiresAt')::timestamptz > $3::timestamptz
         LIMIT $4
       ) s`,
      [initiator.sub, initiator.tenant ?? '', now, Math.max(0, Math.trunc(atMost))],
    );
    return rows[0]?.open ?? 0;
  }

  async compareAndSet(expectedRevision: number, next: Ceremony): Promise<boolean> {
    assertNextRevision(expectedRevision, next);
    const document = JSON.stringify(next);
    const result =
      expectedRevision === 0
        ? await this.execute(
            `INSERT INTO ${CEREMONY_TABLE} (id, status, revision, created_at, document)
             VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (id) DO NOTHING`,
            [next.id, next.status, next.revision, next.createdAt, document],
          )
        : await this.execute(
            `UPDATE ${CEREMONY_TABLE} SET status = $2, revision = $3, document = $4::jsonb, updated_at = now()
             WHERE id = $1 AND revision = $5`,
            [next.id, next.status, next.revision, document, expectedRevision],
          );
    return result === 1;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async query<T>(sql: string, values: unknown[]): Promise<T[]> {
    try {
      return (await this.pool.query(sql, values)).rows as T[];
    } catch (error) {
      throw storeError('ceremony store query failed', error);
    }
  }

  private async execute(sql: string, values: unknown[]): Promise<number> {
    try {
      return (await this.pool.query(sql, values)).rowCount ?? 0;
    } catch (error) {
      throw storeError('ceremony store write failed', error);
    }
  }
}

/**
 * Start-up: migrates only when this build's version is missing, so a role without CREATE on the
 * database starts against a schema an owner migrated; a newer schema is accepted (additive).
 */
export async function ensureCeremonySchema(pool: Pool): Promise<void> {
  const current = await schemaVersion(pool).catch((cause: unknown) => {
    throw storeError('cannot read the ceremony schema version', cause);
  });
  if (current < CEREMONY_SCHEMA_VERSION) await migrateCeremonySchema(pool);
}

async function schemaVersion(client: Pool | PoolClient): Promise<number> {
  try {
    const result = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${MIGRATIONS_TABLE}`,
    );
    return result.rows[0]?.version ?? 0;
  } catch (error) {
    const state = sqlState(error);
    if (state === UNDEFINED_TABLE || state === INVALID_SCHEMA_NAME) return 0;
    throw error;
  }
}

/** Applies pending migrations under an advisory lock, so replicas starting together do not race. */
export async function migrateCeremonySchema(pool: Pool): Promise<number[]> {
  const client = await pool.connect().catch((cause: unknown) => {
    throw storeError('cannot connect to PostgreSQL for the ceremony store', cause);
  });
  let failed: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [AUDIT_LOCK_CLASS, MIGRATION_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${CEREMONY_SCHEMA};
CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
  version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()
);`);
    const from = await schemaVersion(client);
    const applied: number[] = [];
    for (const migration of CEREMONY_MIGRATIONS.filter((m) => m.version > from)) {
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    failed = error as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error instanceof SignerError ? error : storeError('ceremony schema migration failed', error);
  } finally {
    client.release(failed);
  }
}
