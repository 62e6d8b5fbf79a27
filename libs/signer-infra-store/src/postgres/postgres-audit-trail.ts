import type { Pool } from 'pg';
import { GENESIS_HASH, verifyAuditChain, type ChainCheck, type ChainedAuditRecord } from '@signer/core';
import { parseAuditLine } from '../file/audit-file';
import { verifyCheckpoints } from './audit-checkpoints';
import { rowMismatch, type AuditRow } from './audit-rows';
import {
  AUDIT_TABLE,
  CHAIN_ENDS_TABLE,
  CHAIN_RECORDS_TABLE,
  CHAINS_TABLE,
  LEGACY_CHAIN_ID,
} from './migrations';
import { postgresAuditError } from './pg-errors';

/** Rows fetched per round trip while walking a trail (keyset pagination, constant memory). */
export const AUDIT_READ_PAGE_ROWS = 500;

const COLUMNS = `seq::text AS seq, audit_id AS "auditId", recorded_at AS "recordedAt", tenant,
  outcome, prev_hash AS "prevHash", hash, record`;

interface StoredRow extends Omit<AuditRow, 'recordedAt'> {
  recordedAt: Date;
}

/** Where a chain's rows are: the version 1 table for `legacy`, the writer chains' table otherwise. */
function chainSource(chainId: string): { from: string; params: unknown[] } {
  return chainId === LEGACY_CHAIN_ID
    ? { from: `${AUDIT_TABLE} AS r WHERE true`, params: [] }
    : { from: `${CHAIN_RECORDS_TABLE} AS r WHERE r.chain_id = $2`, params: [chainId] };
}

/** One chain's rows in seq order, optionally filtered (`where` uses parameters after the chain's). */
async function* pages(
  pool: Pool,
  chainId: string,
  where = '',
  params: unknown[] = [],
): AsyncGenerator<AuditRow> {
  const source = chainSource(chainId);
  const offset = source.params.length + 2;
  const filter = where.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset - 1}`);
  let after = '0';
  for (;;) {
    let result;
    try {
      result = await pool.query<StoredRow>(
        // r.seq, not the text alias `seq`: ORDER BY a bare name would sort the alias as text.
        `SELECT ${COLUMNS} FROM ${source.from} AND r.seq > $1::bigint ${filter} ORDER BY r.seq LIMIT ${AUDIT_READ_PAGE_ROWS}`,
        [after, ...source.params, ...params],
      );
    } catch (cause) {
      throw postgresAuditError('cannot read the PostgreSQL audit trail', cause);
    }
    for (const row of result.rows) yield { ...row, recordedAt: row.recordedAt.toISOString() };
    if (result.rows.length < AUDIT_READ_PAGE_ROWS) return;
    after = result.rows[result.rows.length - 1].seq;
  }
}

/** The legacy chain, then every writer chain (registered, or holding rows), in a stable order. */
async function chainIds(pool: Pool): Promise<string[]> {
  try {
    const result = await pool.query<{ chain_id: string }>(
      `SELECT chain_id FROM ${CHAINS_TABLE} UNION SELECT DISTINCT chain_id FROM ${CHAIN_RECORDS_TABLE} ORDER BY chain_id`,
    );
    return [LEGACY_CHAIN_ID, ...result.rows.map((row) => row.chain_id)];
  } catch (cause) {
    throw postgresAuditError('cannot read the PostgreSQL audit chains', cause);
  }
}

/** Where each closed chain ended, as its writer recorded when it closed. */
async function chainEnds(pool: Pool): Promise<Map<string, { seq: string; hash: string }>> {
  try {
    const result = await pool.query<{ chain_id: string; seq: string; hash: string }>(
      `SELECT chain_id, seq::text AS seq, hash FROM ${CHAIN_ENDS_TABLE}`,
    );
    return new Map(result.rows.map((row) => [row.chain_id, { seq: row.seq, hash: row.hash }]));
  } catch (cause) {
    throw postgresAuditError('cannot read the PostgreSQL audit chain ends', cause);
  }
}

/**
 * Walks one chain from genesis; `index` counts records of the chains walked before it. A closed
 * chain must end exactly where its writer said: nothing appended or removed after its end.
 */
async function verifyChain(
  pool: Pool,
  chainId: string,
  index: number,
  end: { seq: string; hash: string } | undefined,
): Promise<ChainCheck> {
  let expectedPrev = GENESIS_HASH;
  let seq = 0n;
  for await (const row of pages(pool, chainId)) {
    seq += 1n;
    const at = `seq ${row.seq} (auditId ${row.auditId}, chain ${chainId})`;
    const parsed = parseAuditLine(row.record);
    if ('problem' in parsed) return { ok: false, index, reason: `${at}: ${parsed.problem}` };
    const check = verifyAuditChain([parsed], expectedPrev);
    if (!check.ok) return { ok: false, index, reason: `${at}: ${check.reason}` };
    const mismatch = rowMismatch(row, parsed, seq);
    if (mismatch) return { ok: false, index, reason: `${at}: ${mismatch}` };
    expectedPrev = check.lastHash;
    index += 1;
  }
  if (end && (end.seq !== seq.toString() || end.hash !== expectedPrev)) {
    return {
      ok: false,
      index,
      reason: `chain ${chainId} ended at seq ${end.seq} (hash ${end.hash}), but its last record is seq ${seq} (hash ${expectedPrev})`,
    };
  }
  return { ok: true, count: index, lastHash: expectedPrev };
}

/** A verified trail: its records, chains and checkpoints; `lastHash` is the last checkpoint's. */
export type PostgresAuditCheck =
  | { ok: true; count: number; lastHash: string; chains: number; checkpoints: number }
  | { ok: false; index: number; reason: string };

/**
 * Verifies the whole trail: every chain from genesis (hashes, links, contiguous `seq` from 1, lookup
 * columns against the hashed record — the same {@link verifyAuditChain} as the file trail), then the
 * checkpoint chain and that each checkpoint's heads are stored records with those hashes. That
 * proves nothing was removed, reordered or edited up to the last checkpoint; records after it are
 * covered by their chain's links. `index` of a failure counts the records verified before it.
 */
export async function verifyPostgresAudit(pool: Pool): Promise<PostgresAuditCheck> {
  let count = 0;
  const chains = await chainIds(pool);
  const ends = await chainEnds(pool);
  let lastRecordHash = GENESIS_HASH;
  for (const chainId of chains) {
    const check = await verifyChain(pool, chainId, count, ends.get(chainId));
    if (!check.ok) return check;
    if (check.count > count) lastRecordHash = check.lastHash;
    count = check.count;
  }
  const checkpoints = await verifyCheckpoints(pool);
  if (!checkpoints.ok) return { ok: false, index: count, reason: checkpoints.reason };
  return {
    ok: true,
    count,
    lastHash: checkpoints.count > 0 ? checkpoints.lastHash : lastRecordHash,
    chains: chains.length,
    checkpoints: checkpoints.count,
  };
}

export interface AuditExportQuery {
  tenant: string;
  /** Records at or after this instant. */
  since: Date;
}

/**
 * One tenant's records since an instant, chain by chain (the legacy chain first), each chain in
 * its order, as stored (with `prevHash`/`hash`, so each can be matched against the full trail).
 * The tenant is checked on the hashed record too: a tampered lookup column can hide a record from
 * an export but never leak another tenant's.
 */
export async function* exportPostgresAudit(
  pool: Pool,
  query: AuditExportQuery,
): AsyncGenerator<ChainedAuditRecord> {
  for (const chainId of await chainIds(pool)) {
    const rows = pages(pool, chainId, 'AND r.tenant = $1 AND r.recorded_at >= $2', [
      query.tenant,
      query.since,
    ]);
    for await (const row of rows) {
      const parsed = parseAuditLine(row.record);
      if ('problem' in parsed) {
        throw postgresAuditError(`audit row ${chainId}/${row.seq}: ${parsed.problem}`);
      }
      if (parsed.tenant === query.tenant) yield parsed;
    }
  }
}
