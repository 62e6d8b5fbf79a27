import { Pool } from 'pg';
import { SignerError, type ManagedState, type ManagedStateStore } from '@signer/core';
import { AUDIT_LOCK_CLASS, LOCK_KEYS, sqlState } from '../postgres/pg-errors';
import { parseManagedState, stateStoreError } from './state-errors';

export const STATE_SCHEMA = 'signer_state';
export const STATE_TABLE = `${STATE_SCHEMA}.managed_state`;
/** Second key of the advisory lock under which the schema is created (first key: AUDIT_LOCK_CLASS). */
const STATE_SCHEMA_LOCK = LOCK_KEYS.stateSchema;

/**
 * One row (id 1) holding the whole document. Idempotent, so replicas starting together (under the
 * advisory lock) or a later build can run it again; a change of layout is a new statement here,
 * additive only, like the audit migrations.
 */
const SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS ${STATE_SCHEMA};
CREATE TABLE IF NOT EXISTS ${STATE_TABLE} (
  id         smallint    PRIMARY KEY CHECK (id = 1),
  version    bigint      NOT NULL CHECK (version > 0),
  document   text        NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON SCHEMA ${STATE_SCHEMA} FROM PUBLIC;
`;

const UNDEFINED_TABLE = '42P01';
const INVALID_SCHEMA_NAME = '3F000';

export interface PostgresManagedStateStoreOptions {
  /** `postgres://user@host:port/database`; the user needs SELECT, INSERT, UPDATE on the table. */
  connectionString: string;
  poolSize?: number;
  connectTimeoutMs?: number;
  /** A refresh that takes longer fails (and counts toward staleness) rather than hanging. */
  queryTimeoutMs?: number;
}

/**
 * The managed state in PostgreSQL, shared by every replica. Compare-and-set is one statement:
 * `UPDATE … WHERE version = $expected` (or `INSERT … ON CONFLICT DO NOTHING` for the first
 * state), so two ceremonies executed on two replicas at once cannot both win.
 */
export class PostgresManagedStateStore implements ManagedStateStore {
  private constructor(private readonly pool: Pool) {}

  /** Connects and creates the schema when it does not exist yet (when the role may). */
  static async open(options: PostgresManagedStateStoreOptions): Promise<PostgresManagedStateStore> {
    const pool = new Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 2,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
      query_timeout: options.queryTimeoutMs ?? 2000,
      application_name: 'stella-ops-signer-state',
    });
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    const store = new PostgresManagedStateStore(pool);
    try {
      await store.ensureSchema();
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return store;
  }

  async load(): Promise<ManagedState | undefined> {
    try {
      const { rows } = await this.pool.query<{ document: string }>(
        `SELECT document FROM ${STATE_TABLE} WHERE id = 1`,
      );
      return rows.length === 0 ? undefined : parseManagedState<ManagedState>(rows[0].document, STATE_TABLE);
    } catch (error) {
      if (error instanceof SignerError) throw error;
      throw stateStoreError('cannot read the managed state', error);
    }
  }

  async compareAndSet(expectedVersion: number, next: ManagedState): Promise<boolean> {
    const document = JSON.stringify(next);
    try {
      const result =
        expectedVersion === 0
          ? await this.pool.query(
              `INSERT INTO ${STATE_TABLE} (id, version, document) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`,
              [next.version, document],
            )
          : await this.pool.query(
              `UPDATE ${STATE_TABLE} SET version = $1, document = $2, updated_at = now() WHERE id = 1 AND version = $3`,
              [next.version, document, expectedVersion],
            );
      return result.rowCount === 1;
    } catch (error) {
      throw stateStoreError('cannot commit the managed state', error);
    }
  }

  /** For `/readyz`: the store answers. */
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async ensureSchema(): Promise<void> {
    try {
      await this.pool.query(`SELECT 1 FROM ${STATE_TABLE} LIMIT 1`);
      return;
    } catch (error) {
      const state = sqlState(error);
      if (state !== UNDEFINED_TABLE && state !== INVALID_SCHEMA_NAME)
        throw stateStoreError('cannot read the managed state table', error);
    }
    const client = await this.pool.connect().catch((cause: unknown) => {
      throw stateStoreError('cannot connect to PostgreSQL for the managed state', cause);
    });
    let failed: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [AUDIT_LOCK_CLASS, STATE_SCHEMA_LOCK]);
      await client.query(SCHEMA_SQL);
      await client.query('COMMIT');
    } catch (error) {
      failed = error as Error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw stateStoreError(
        `cannot create the ${STATE_SCHEMA} schema (create it as the owner, or grant this role CREATE)`,
        error,
      );
    } finally {
      client.release(failed);
    }
  }
}
