import { context, trace, SpanStatusCode, type Link } from '@opentelemetry/api';
import { Pool, type PoolClient } from 'pg';
import { SignerError, type AuditRecord, type AuditSink } from '@signer/core';
import { DEFAULT_AUDIT_BATCH_DELAY_MS, GroupCommit, requireBatchDelayMs } from '../audit/group-commit';
import { requirePositiveInteger } from '../options';
import { ensureAuditSchema } from './migrate';
import { AUDIT_TABLE } from './migrations';
import { AUDIT_LOCK_CLASS, postgresAuditError } from './pg-errors';
import { chainRows, readChainHead, type AuditRow } from './audit-rows';

export const DEFAULT_POSTGRES_POOL_SIZE = 4;
export const DEFAULT_POSTGRES_CONNECT_TIMEOUT_MS = 2000;
/** A commit that takes longer than this is treated as failed: the request answers 503, never hangs. */
export const DEFAULT_POSTGRES_QUERY_TIMEOUT_MS = 5000;
/** 8 columns × 1024 rows stays far below PostgreSQL's bind-parameter limit (arrays are one each). */
export const DEFAULT_POSTGRES_MAX_BATCH_RECORDS = 1024;
/** Second key of the chain's advisory lock (first key: AUDIT_LOCK_CLASS). */
const CHAIN_LOCK = 1;

const INSERT_ROWS = `
INSERT INTO ${AUDIT_TABLE} (seq, audit_id, recorded_at, tenant, outcome, prev_hash, hash, record)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])`;

export interface PostgresAuditSinkOptions {
  /** `postgres://user@host:port/database`; the user needs only the signer_audit_writer role. */
  connectionString: string;
  poolSize?: number;
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
  maxBatchRecords?: number;
  /** Under concurrent load, how long a batch may wait for more records (see GroupCommit). */
  batchDelayMs?: number;
}

interface Pending {
  record: AuditRecord;
  link?: Link;
  resolve(): void;
  reject(error: SignerError): void;
}

const tracer = trace.getTracer('@signer/infra-store');

/**
 * {@link AuditSink} on PostgreSQL: one global hash chain in `signer_audit.records`, shared by every
 * replica. Group commit: appends that arrive while a transaction is in flight are chained and
 * inserted together in the next one, so durability costs one commit per batch. Each transaction
 * takes a transaction-scoped advisory lock and reads the chain head under it, which serialises
 * replicas without the writer role ever needing UPDATE. Any failure rejects the whole batch with
 * `upstream_unavailable` (upstream `audit`): no 200 leaves without its committed row.
 */
export class PostgresAuditSink implements AuditSink {
  private readonly batches: GroupCommit<Pending>;
  private closing: Promise<void> | undefined;

  /** Connects, brings the schema to this build's version (or refuses), and returns the sink. */
  static async open(options: PostgresAuditSinkOptions): Promise<PostgresAuditSink> {
    const maxBatchRecords = requirePositiveInteger(
      'maxBatchRecords',
      options.maxBatchRecords ?? DEFAULT_POSTGRES_MAX_BATCH_RECORDS,
    );
    const batchDelayMs = requireBatchDelayMs(options.batchDelayMs ?? DEFAULT_AUDIT_BATCH_DELAY_MS);
    const pool = createAuditPool(options);
    try {
      await ensureAuditSchema(pool);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new PostgresAuditSink(pool, maxBatchRecords, batchDelayMs);
  }

  private constructor(
    private readonly pool: Pool,
    maxBatchRecords: number,
    batchDelayMs: number,
  ) {
    this.batches = new GroupCommit<Pending>({
      maxBatch: maxBatchRecords,
      maxDelayMs: batchDelayMs,
      commit: (batch) => this.commit(batch),
    });
  }

  append(record: AuditRecord): Promise<void> {
    if (this.closing !== undefined) return Promise.reject(postgresAuditError('audit sink is closed'));
    const caller = trace.getSpanContext(context.active());
    return new Promise<void>((resolve, reject) =>
      this.batches.push({ record, resolve, reject, ...(caller ? { link: { context: caller } } : {}) }),
    );
  }

  /** Readiness: PostgreSQL answers a trivial query. */
  async ping(): Promise<void> {
    try {
      await this.pool.query('SELECT 1');
    } catch (cause) {
      throw postgresAuditError('PostgreSQL audit database unreachable', cause);
    }
  }

  /** Waits for accepted appends to settle, then closes the pool. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.batches.settled();
      await this.pool.end().catch(() => undefined);
    })();
    return this.closing;
  }

  private async commit(batch: Pending[]): Promise<void> {
    const links = batch.flatMap((pending) => (pending.link ? [pending.link] : []));
    await tracer.startActiveSpan(
      'audit postgres commit',
      { links, attributes: { 'db.system.name': 'postgresql', 'signer.audit.batch_size': batch.length } },
      async (span) => {
        try {
          await this.insert(batch);
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          const failure =
            error instanceof SignerError ? error : postgresAuditError('audit commit failed', error);
          for (const pending of batch) pending.reject(failure);
        } finally {
          span.end();
        }
      },
    );
  }

  private async insert(batch: Pending[]): Promise<void> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (cause) {
      throw postgresAuditError('cannot connect to the PostgreSQL audit database', cause);
    }
    let failed: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [AUDIT_LOCK_CLASS, CHAIN_LOCK]);
      const head = await readChainHead(client);
      const { rows, accepted } = chainRows(
        head,
        batch.map((pending) => pending.record),
        (index, cause) => {
          // One unstorable record (a caller bug) must not sink the others of its batch.
          batch[index].reject(new SignerError('internal_error', 'audit record cannot be stored', { cause }));
        },
      );
      if (rows.length > 0) await client.query(INSERT_ROWS, columns(rows));
      await client.query('COMMIT');
      for (const index of accepted) batch[index].resolve();
    } catch (error) {
      failed = error as Error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw postgresAuditError('audit commit failed', error);
    } finally {
      // A client whose transaction failed may be in an unknown state: destroy it, do not reuse it.
      client.release(failed);
    }
  }
}

export function createAuditPool(options: PostgresAuditSinkOptions): Pool {
  const pool = new Pool({
    connectionString: options.connectionString,
    max: requirePositiveInteger('poolSize', options.poolSize ?? DEFAULT_POSTGRES_POOL_SIZE),
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_POSTGRES_CONNECT_TIMEOUT_MS,
    query_timeout: options.queryTimeoutMs ?? DEFAULT_POSTGRES_QUERY_TIMEOUT_MS,
    application_name: 'stella-ops-signer',
  });
  // Idle-connection errors surface on the next query (as 503); the event must not crash the process.
  pool.on('error', () => undefined);
  // A checked-out client whose socket dies also emits 'error'; its query rejects on its own.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

function columns(rows: AuditRow[]): unknown[] {
  return [
    rows.map((r) => r.seq),
    rows.map((r) => r.auditId),
    rows.map((r) => r.recordedAt),
    rows.map((r) => r.tenant),
    rows.map((r) => r.outcome),
    rows.map((r) => r.prevHash),
    rows.map((r) => r.hash),
    rows.map((r) => r.record),
  ];
}
