import { hash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { canonicalize, GENESIS_HASH } from '@signer/core';
import { readChainHead } from './audit-rows';
import {
  AUDIT_TABLE,
  CHAIN_ENDS_TABLE,
  CHAIN_RECORDS_TABLE,
  CHAINS_TABLE,
  CHECKPOINTS_TABLE,
  LEGACY_CHAIN_ID,
} from './migrations';
import { AUDIT_LOCK_CLASS, LOCK_KEYS, postgresAuditError } from './pg-errors';

/** Second key of the checkpoint chain's advisory lock (first key: AUDIT_LOCK_CLASS). */
const CHECKPOINT_LOCK = LOCK_KEYS.auditCheckpoint;

/** A chain's last record as a checkpoint saw it. */
export interface CheckpointHead {
  chainId: string;
  seq: number;
  hash: string;
}

/**
 * One link of the checkpoint chain: every chain's head at `time`. Its `hash` covers the canonical
 * JSON of the other members, `prevHash` included, so no checkpoint can be removed, reordered or
 * edited without breaking the links after it; its heads pin every chain up to that point.
 */
export interface Checkpoint {
  seq: number;
  time: string;
  /** The chain id of the writer that wrote it. */
  writer: string;
  heads: CheckpointHead[];
  prevHash: string;
  hash: string;
}

export const checkpointHash = (body: Omit<Checkpoint, 'hash'>): string =>
  hash('sha256', canonicalize({ ...body }), 'hex');

export function chainCheckpoint(body: Omit<Checkpoint, 'hash'>): Checkpoint {
  return { ...body, hash: checkpointHash(body) };
}

/** Why a checkpoint was or was not written. */
export type CheckpointOutcome = 'written' | 'busy' | 'fresh' | 'unchanged';

/**
 * Every open writer chain's head (one index probe each; a closed chain's end is in an earlier
 * checkpoint), and the legacy chain's if it has rows.
 */
async function readHeads(client: PoolClient): Promise<CheckpointHead[]> {
  const result = await client.query<{ chain_id: string; seq: string; hash: string }>(
    `SELECT c.chain_id, h.seq::text AS seq, h.hash FROM ${CHAINS_TABLE} AS c
     CROSS JOIN LATERAL (SELECT seq, hash FROM ${CHAIN_RECORDS_TABLE} AS r
       WHERE r.chain_id = c.chain_id ORDER BY seq DESC LIMIT 1) AS h
     WHERE NOT EXISTS (SELECT FROM ${CHAIN_ENDS_TABLE} AS e WHERE e.chain_id = c.chain_id)`,
  );
  const heads = result.rows.map((row) => ({ chainId: row.chain_id, seq: Number(row.seq), hash: row.hash }));
  const legacy = await readChainHead(client);
  if (legacy.seq > 0n) heads.push({ chainId: LEGACY_CHAIN_ID, seq: Number(legacy.seq), hash: legacy.hash });
  return heads.sort((a, b) => (a.chainId < b.chainId ? -1 : a.chainId > b.chainId ? 1 : 0));
}

/**
 * Appends a checkpoint of every open chain's head, unless another writer is writing one (`busy`, when
 * `wait` is false), one was written less than `minIntervalMs` ago (`fresh`), or no head moved since
 * the last one (`unchanged`). Serialised by an advisory lock, but only about once a second across
 * the fleet, never on a request's path.
 */
export async function writeCheckpoint(
  pool: Pool,
  options: { writer: string; minIntervalMs: number; wait: boolean },
): Promise<CheckpointOutcome> {
  const client = await pool.connect().catch((cause: unknown) => {
    throw postgresAuditError('cannot connect to the PostgreSQL audit database', cause);
  });
  let failed: Error | undefined;
  try {
    await client.query('BEGIN');
    if (options.wait) {
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [AUDIT_LOCK_CLASS, CHECKPOINT_LOCK]);
    } else {
      const locked = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_xact_lock($1, $2) AS locked',
        [AUDIT_LOCK_CLASS, CHECKPOINT_LOCK],
      );
      if (!locked.rows[0]?.locked) return await rollback(client, 'busy');
    }
    const last = await client.query<{ record: string; fresh: boolean }>(
      `SELECT record, recorded_at > now() - $1 * interval '1 millisecond' AS fresh
       FROM ${CHECKPOINTS_TABLE} ORDER BY seq DESC LIMIT 1`,
      [options.minIntervalMs],
    );
    const previous = last.rows[0] ? (JSON.parse(last.rows[0].record) as Checkpoint) : undefined;
    // A waiting writer (closing) needs its checkpoint whatever the previous one's clock said.
    if (!options.wait && last.rows[0]?.fresh) return await rollback(client, 'fresh');
    const heads = await readHeads(client);
    if (JSON.stringify(heads) === JSON.stringify(previous?.heads ?? []))
      return await rollback(client, 'unchanged');
    const checkpoint = chainCheckpoint({
      seq: (previous?.seq ?? 0) + 1,
      time: new Date().toISOString(),
      writer: options.writer,
      heads,
      prevHash: previous?.hash ?? GENESIS_HASH,
    });
    await client.query(
      `INSERT INTO ${CHECKPOINTS_TABLE} (seq, recorded_at, writer, prev_hash, hash, record)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        checkpoint.seq,
        checkpoint.time,
        checkpoint.writer,
        checkpoint.prevHash,
        checkpoint.hash,
        JSON.stringify(checkpoint),
      ],
    );
    await client.query('COMMIT');
    return 'written';
  } catch (error) {
    failed = error as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw postgresAuditError('audit checkpoint failed', error);
  } finally {
    client.release(failed);
  }
}

async function rollback(client: PoolClient, outcome: CheckpointOutcome): Promise<CheckpointOutcome> {
  await client.query('ROLLBACK');
  return outcome;
}

/** Checkpoints fetched per round trip while verifying. */
const CHECKPOINT_PAGE = 200;

export type CheckpointCheck =
  { ok: true; count: number; lastHash: string } | { ok: false; index: number; reason: string };

/** What a checkpoint's recomputed hash, link and stored columns say against the expected ones. */
export function checkpointMismatch(
  row: { seq: string; prevHash: string; hash: string },
  checkpoint: Checkpoint,
  expected: { seq: number; prevHash: string },
): string | undefined {
  if (checkpoint.seq !== expected.seq || row.seq !== String(expected.seq))
    return `expected seq ${expected.seq}, got ${checkpoint.seq} (column ${row.seq})`;
  if (checkpoint.prevHash !== expected.prevHash)
    return `expected prevHash ${expected.prevHash}, got ${checkpoint.prevHash}`;
  const { hash: stored, ...body } = checkpoint;
  const actual = checkpointHash(body);
  if (actual !== stored) return `expected hash ${actual}, got ${stored}`;
  if (row.hash !== stored || row.prevHash !== checkpoint.prevHash)
    return 'columns disagree with the hashed checkpoint';
  return undefined;
}

/**
 * Walks the checkpoint chain from its first link and checks that every head it lists is a stored
 * record with that hash. With every chain verified from genesis, a matching head proves its chain
 * unchanged up to that record: nothing removed, reordered or edited before the last checkpoint.
 */
export async function verifyCheckpoints(pool: Pool): Promise<CheckpointCheck> {
  let expected = { seq: 1, prevHash: GENESIS_HASH };
  for (;;) {
    const page = await pool
      // Ordered by the column, not the text alias `seq` (which would sort 10 before 2).
      .query<{ seq: string; prevHash: string; hash: string; record: string }>(
        `SELECT seq::text AS seq, prev_hash AS "prevHash", hash, record FROM ${CHECKPOINTS_TABLE}
         WHERE seq >= $1 ORDER BY ${CHECKPOINTS_TABLE}.seq LIMIT ${CHECKPOINT_PAGE}`,
        [expected.seq],
      )
      .catch((cause: unknown) => {
        throw postgresAuditError('cannot read the PostgreSQL audit checkpoints', cause);
      });
    for (const row of page.rows) {
      const index = expected.seq - 1;
      let checkpoint: Checkpoint;
      try {
        checkpoint = JSON.parse(row.record) as Checkpoint;
      } catch {
        return { ok: false, index, reason: `checkpoint ${row.seq}: not JSON` };
      }
      const mismatch = checkpointMismatch(row, checkpoint, expected);
      if (mismatch) return { ok: false, index, reason: `checkpoint ${row.seq}: ${mismatch}` };
      const missing = await missingHead(pool, checkpoint.heads);
      if (missing) return { ok: false, index, reason: `checkpoint ${row.seq}: ${missing}` };
      expected = { seq: expected.seq + 1, prevHash: checkpoint.hash };
    }
    if (page.rows.length < CHECKPOINT_PAGE)
      return { ok: true, count: expected.seq - 1, lastHash: expected.prevHash };
  }
}

/** The first head of a checkpoint that is not a stored record with that hash, described. */
async function missingHead(pool: Pool, heads: readonly CheckpointHead[]): Promise<string | undefined> {
  const writers = heads.filter((h) => h.chainId !== LEGACY_CHAIN_ID);
  const legacy = heads.filter((h) => h.chainId === LEGACY_CHAIN_ID);
  const stored = await pool
    .query<{ chain_id: string; seq: string; hash: string | null }>(
      `SELECT h.chain_id, h.seq::text AS seq, r.hash FROM unnest($1::text[], $2::bigint[]) AS h(chain_id, seq)
       LEFT JOIN ${CHAIN_RECORDS_TABLE} AS r ON r.chain_id = h.chain_id AND r.seq = h.seq
       UNION ALL
       SELECT '${LEGACY_CHAIN_ID}', h.seq::text, r.hash FROM unnest($3::bigint[]) AS h(seq)
       LEFT JOIN ${AUDIT_TABLE} AS r ON r.seq = h.seq`,
      [writers.map((h) => h.chainId), writers.map((h) => h.seq), legacy.map((h) => h.seq)],
    )
    .catch((cause: unknown) => {
      throw postgresAuditError('cannot read the PostgreSQL audit trail', cause);
    });
  const found = new Map(stored.rows.map((row) => [`${row.chain_id}/${row.seq}`, row.hash]));
  for (const head of heads) {
    const hashAt = found.get(`${head.chainId}/${head.seq}`);
    if (hashAt === null || hashAt === undefined)
      return `head of chain ${head.chainId} at seq ${head.seq} is missing from the trail`;
    if (hashAt !== head.hash)
      return `head of chain ${head.chainId} at seq ${head.seq}: expected hash ${head.hash}, got ${hashAt}`;
  }
  return undefined;
}

/**
 * Records that a closing writer's chain ends at `head`, once a checkpoint lists that head (the
 * caller's last checkpoint was written or unchanged): later checkpoints then leave the chain out.
 */
export async function endChain(
  pool: Pick<Pool, 'query'>,
  chainId: string,
  head: { seq: bigint; hash: string },
): Promise<void> {
  await pool.query(`INSERT INTO ${CHAIN_ENDS_TABLE} (chain_id, seq, hash) VALUES ($1, $2, $3)`, [
    chainId,
    head.seq.toString(),
    head.hash,
  ]);
}
