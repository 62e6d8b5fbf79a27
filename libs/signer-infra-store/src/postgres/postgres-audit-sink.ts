import { context, trace, SpanStatusCode, type Link } from '@opentelemetry/api';
import { Pool, type PoolClient } from 'pg';
import { SignerError, type AuditRecord, type AuditSink } from '@signer/core';
import { DEFAULT_AUDIT_BATCH_DELAY_MS, GroupCommit, requireBatchDelayMs } from '../audit/group-commit';
import { requirePositiveInteger } from '../options';
import { ensureAuditSchema } from './migrate';
import { endChain, writeCheckpoint } from './audit-checkpoints';
import { CHAIN_RECORDS_TABLE } from './migrations';
import { postgresAuditError } from './pg-errors';
import {
  claimChain,
  DEFAULT_AUDIT_CHECKPOINT_INTERVAL_MS,
  newChainId,
  requireCheckpointIntervalMs,
} from './writer-chain';
import { chainRows, EMPTY_CHAIN, readWriterChainHead, type AuditRow, type ChainHead } from './audit-rows';

export const DEFAULT_POSTGRES_POOL_SIZE = 4;
export const DEFAULT_POSTGRES_CONNECT_TIMEOUT_MS = 2000;
/** A commit that takes longer than this is treated as failed: the request answers 503, never hangs. */
export const DEFAULT_POSTGRES_QUERY_TIMEOUT_MS = 5000;
/** 8 array columns × 1024 rows stays far below PostgreSQL's bind-parameter limit (arrays are one each). */
export const DEFAULT_POSTGRES_MAX_BATCH_RECORDS = 1024;
export { DEFAULT_AUDIT_CHECKPOINT_INTERVAL_MS };

const INSERT_ROWS = `
INSERT INTO ${CHAIN_RECORDS_TABLE} (chain_id, seq, audit_id, recorded_at, tenant, outcome, prev_hash, hash, record)
SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])`;

export interface PostgresAuditSinkOptions {
  /** `postgres://user@host:port/database`; the user needs only the signer_audit_writer role. */
  connectionString: string;
  poolSize?: number;
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
  maxBatchRecords?: number;
  /** Under concurrent load, how long a batch may wait for more records (see GroupCommit). */
  batchDelayMs?: number;
  /** How often, when it appended since, this writer checkpoints every chain's head. */
  checkpointIntervalMs?: number;
  /** The chain this sink claims; default: host, pid and a random suffix, new at every start. */
  chainId?: string;
}

interface Pending {
  record: AuditRecord;
  link?: Link;
  resolve(): void;
  reject(error: SignerError): void;
}

const tracer = trace.getTracer('@signer/infra-store');

/**
 * {@link AuditSink} on PostgreSQL: each sink (a replica's process) claims a hash chain of its own in
 * `signer_audit.chain_records` and appends to it without any lock, so replicas never wait for each
 * other; about once a second one of them appends every chain's head to the global, hash-chained
 * `signer_audit.checkpoints`, which ties the chains into one trail (docs/decisions.md). A single
 * global chain under one advisory lock, measured, carried about three replicas (docs/performance.md).
 * Group commit: appends that arrive while an INSERT is in flight are chained and inserted together
 * in the next one, so durability costs one commit per batch. Any failure rejects the whole batch
 * with `upstream_unavailable` (upstream `audit`): no 200 leaves without its committed row.
 */
export class PostgresAuditSink implements AuditSink {
  private readonly batches: GroupCommit<Pending>;
  private closing: Promise<void> | undefined;
  /** The chain's last committed row; unknown after a failed INSERT, whose outcome is in doubt. */
  private head: ChainHead | undefined = EMPTY_CHAIN;
  private appendedSinceCheckpoint = false;
  private checkpointing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  /** Connects, brings the schema to this build's version (or refuses), and returns the sink. */
  static async open(options: PostgresAuditSinkOptions): Promise<PostgresAuditSink> {
    const maxBatchRecords = requirePositiveInteger(
      'maxBatchRecords',
      options.maxBatchRecords ?? DEFAULT_POSTGRES_MAX_BATCH_RECORDS,
    );
    const batchDelayMs = requireBatchDelayMs(options.batchDelayMs ?? DEFAULT_AUDIT_BATCH_DELAY_MS);
    const checkpointIntervalMs = requireCheckpointIntervalMs(
      options.checkpointIntervalMs ?? DEFAULT_AUDIT_CHECKPOINT_INTERVAL_MS,
    );
    const chainId = options.chainId ?? newChainId();
    const pool = createAuditPool(options);
    try {
      await ensureAuditSchema(pool);
      await claimChain(pool, chainId);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new PostgresAuditSink(pool, chainId, maxBatchRecords, batchDelayMs, checkpointIntervalMs);
  }

  private constructor(
    private readonly pool: Pool,
    /** The chain this sink alone appends to. */
    readonly chainId: string,
    maxBatchRecords: number,
    batchDelayMs: number,
    private readonly checkpointIntervalMs: number,
  ) {
    this.batches = new GroupCommit<Pending>({
      maxBatch: maxBatchRecords,
      maxDelayMs: batchDelayMs,
      commit: (batch) => this.commit(batch),
    });
    this.timer = setInterval(() => void this.checkpoint(false), checkpointIntervalMs);
    this.timer.unref();
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

  /**
   * Waits for accepted appends to settle, checkpoints them and ends the chain, then closes the
   * pool. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      await this.batches.settled();
      await this.checkpointing;
      await this.end().catch(() => undefined);
      await this.pool.end().catch(() => undefined);
    })();
    return this.closing;
  }

  /**
   * The last records are pinned by a checkpoint too, not only by their chain; once one lists the
   * chain's head, the chain is marked ended and later checkpoints leave it out. A chain whose end
   * is unknown (a failed INSERT) or not checkpointed stays open: the next checkpoints list it.
   */
  private async end(): Promise<void> {
    const head = this.head;
    if (head === undefined || head.seq === 0n) return;
    const outcome = await writeCheckpoint(this.pool, { writer: this.chainId, minIntervalMs: 0, wait: true });
    if (outcome === 'written' || outcome === 'unchanged') await endChain(this.pool, this.chainId, head);
  }

  /**
   * Checkpoints every chain's head when this sink appended since its last attempt. Off the request
   * path: a failure only postpones the checkpoint (the records are committed in their chain).
   */
  private checkpoint(wait: boolean): Promise<void> {
    if (this.checkpointing !== undefined || !this.appendedSinceCheckpoint) return Promise.resolve();
    this.appendedSinceCheckpoint = false;
    this.checkpointing = writeCheckpoint(this.pool, {
      writer: this.chainId,
      minIntervalMs: wait ? 0 : this.checkpointIntervalMs,
      wait,
    })
      .then((outcome) => {
        // Another writer's checkpoint may have read our head before our last append: try again.
        if (outcome === 'busy' || outcome === 'fresh') this.appendedSinceCheckpoint = true;
      })
      .catch(() => {
        this.appendedSinceCheckpoint = true;
      })
      .finally(() => {
        this.checkpointing = undefined;
      });
    return this.checkpointing;
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
      // Only this sink appends to its chain, so its head is known, except after an INSERT whose
      // outcome is in doubt (a timeout may still commit): then the stored head decides.
      const head = this.head ?? (await readWriterChainHead(client, this.chainId));
      this.head = undefined;
      const { rows, accepted } = chainRows(
        head,
        batch.map((pending) => pending.record),
        (index, cause) => {
          // One unstorable record (a caller bug) must not sink the others of its batch.
          batch[index].reject(new SignerError('internal_error', 'audit record cannot be stored', { cause }));
        },
      );
      // One statement, so one implicit transaction: no BEGIN/COMMIT round trips, no lock.
      if (rows.length > 0) await client.query(INSERT_ROWS, [this.chainId, ...columns(rows)]);
      const last = rows[rows.length - 1];
      this.head = last ? { seq: BigInt(last.seq), hash: last.hash } : head;
      if (rows.length > 0) this.appendedSinceCheckpoint = true;
      for (const index of accepted) batch[index].resolve();
    } catch (error) {
      failed = error as Error;
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
