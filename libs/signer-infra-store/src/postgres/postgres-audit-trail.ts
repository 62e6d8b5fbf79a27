import type { Pool } from 'pg';
import { GENESIS_HASH, verifyAuditChain, type ChainCheck, type ChainedAuditRecord } from '@signer/core';
import { parseAuditLine } from '../file/audit-file';
import { rowMismatch, type AuditRow } from './audit-rows';
import { AUDIT_TABLE } from './migrations';
import { postgresAuditError } from './pg-errors';

/** Rows fetched per round trip while walking a trail (keyset pagination on seq, constant memory). */
export const AUDIT_READ_PAGE_ROWS = 500;

const SELECT_ROWS = `SELECT seq::text AS seq, audit_id AS "auditId", recorded_at AS "recordedAt", tenant,
  outcome, prev_hash AS "prevHash", hash, record FROM ${AUDIT_TABLE} AS r`;

interface StoredRow extends Omit<AuditRow, 'recordedAt'> {
  recordedAt: Date;
}

async function* pages(pool: Pool, where: string, params: unknown[]): AsyncGenerator<AuditRow> {
  let after = '0';
  for (;;) {
    let result;
    try {
      result = await pool.query<StoredRow>(
        // r.seq, not the text alias `seq`: ORDER BY a bare name would sort the alias as text.
        `${SELECT_ROWS} WHERE r.seq > $1::bigint ${where} ORDER BY r.seq LIMIT ${AUDIT_READ_PAGE_ROWS}`,
        [after, ...params],
      );
    } catch (cause) {
      throw postgresAuditError('cannot read the PostgreSQL audit trail', cause);
    }
    for (const row of result.rows) yield { ...row, recordedAt: row.recordedAt.toISOString() };
    if (result.rows.length < AUDIT_READ_PAGE_ROWS) return;
    after = result.rows[result.rows.length - 1].seq;
  }
}

/**
 * Walks the whole trail in chain order and reports the first broken link: a record whose hash or
 * predecessor does not match, a gap or reordering in `seq`, or a lookup column that disagrees with
 * the hashed record. The same {@link verifyAuditChain} as the file trail decides the hashes.
 */
export async function verifyPostgresAudit(pool: Pool): Promise<ChainCheck> {
  let expectedPrev = GENESIS_HASH;
  let index = 0;
  for await (const row of pages(pool, '', [])) {
    const at = `seq ${row.seq} (auditId ${row.auditId})`;
    const parsed = parseAuditLine(row.record);
    if ('problem' in parsed) return { ok: false, index, reason: `${at}: ${parsed.problem}` };
    const check = verifyAuditChain([parsed], expectedPrev);
    if (!check.ok) return { ok: false, index, reason: `${at}: ${check.reason}` };
    const mismatch = rowMismatch(row, parsed, BigInt(index + 1));
    if (mismatch) return { ok: false, index, reason: `${at}: ${mismatch}` };
    expectedPrev = check.lastHash;
    index += 1;
  }
  return { ok: true, count: index, lastHash: expectedPrev };
}

export interface AuditExportQuery {
  tenant: string;
  /** Records at or after this instant. */
  since: Date;
}

/**
 * One tenant's records since an instant, in chain order, as stored (with `prevHash`/`hash`, so
 * each can be matched against the full trail). The tenant is checked on the hashed record too:
 * a tampered lookup column can hide a record from an export but never leak another tenant's.
 */
export async function* exportPostgresAudit(
  pool: Pool,
  query: AuditExportQuery,
): AsyncGenerator<ChainedAuditRecord> {
  const rows = pages(pool, 'AND r.tenant = $2 AND r.recorded_at >= $3', [query.tenant, query.since]);
  for await (const row of rows) {
    const parsed = parseAuditLine(row.record);
    if ('problem' in parsed) {
      throw postgresAuditError(`audit row seq ${row.seq}: ${parsed.problem}`);
    }
    if (parsed.tenant === query.tenant) yield parsed;
  }
}
