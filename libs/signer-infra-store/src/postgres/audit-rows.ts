import type { PoolClient } from 'pg';
import { GENESIS_HASH, chainAuditRecord, type AuditRecord, type ChainedAuditRecord } from '@signer/core';
import { AUDIT_TABLE, CHAIN_RECORDS_TABLE } from './migrations';

/** One row of `signer_audit.records`; `record` is the chained record as one JSON line. */
export interface AuditRow {
  seq: string;
  auditId: string;
  recordedAt: string;
  tenant: string | null;
  outcome: string;
  prevHash: string;
  hash: string;
  record: string;
}

export interface ChainHead {
  seq: bigint;
  hash: string;
}

export const EMPTY_CHAIN: ChainHead = { seq: 0n, hash: GENESIS_HASH };

/** The last row of the chain; call it under the chain lock, or another replica may append after. */
export async function readChainHead(client: PoolClient): Promise<ChainHead> {
  const result = await client.query<{ head_seq: string; hash: string }>(
    `SELECT seq::text AS head_seq, hash FROM ${AUDIT_TABLE} ORDER BY seq DESC LIMIT 1`,
  );
  const last = result.rows[0];
  return last ? { seq: BigInt(last.head_seq), hash: last.hash } : EMPTY_CHAIN;
}

/** The last row of a writer chain; only its owner appends to it, so no lock is needed. */
export async function readWriterChainHead(
  client: Pick<PoolClient, 'query'>,
  chainId: string,
): Promise<ChainHead> {
  const result = await client.query<{ head_seq: string; hash: string }>(
    `SELECT seq::text AS head_seq, hash FROM ${CHAIN_RECORDS_TABLE} WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1`,
    [chainId],
  );
  const last = result.rows[0];
  return last ? { seq: BigInt(last.head_seq), hash: last.hash } : EMPTY_CHAIN;
}

/**
 * PostgreSQL text cannot hold U+0000; the lookup columns drop it (the JSON in `record` escapes it,
 * so the hashed record keeps the exact value). A hostile value must not fail a whole batch.
 */
function column(value: string): string {
  return value.replaceAll('\u0000', '');
}

function toRow(chained: ChainedAuditRecord, seq: bigint): AuditRow {
  const time = Date.parse(chained.time);
  if (Number.isNaN(time))
    throw new RangeError(`time: expected RFC 3339, got ${JSON.stringify(chained.time)}`);
  return {
    seq: seq.toString(),
    auditId: column(chained.auditId),
    recordedAt: new Date(time).toISOString(),
    tenant: chained.tenant === undefined ? null : column(chained.tenant),
    outcome: column(chained.outcome),
    prevHash: chained.prevHash,
    hash: chained.hash,
    record: JSON.stringify(chained),
  };
}

/**
 * Chains records onto `head`, in order. A record that cannot be chained or stored is reported
 * through `onRejected` and skipped; the others still form one unbroken chain.
 */
export function chainRows(
  head: ChainHead,
  records: AuditRecord[],
  onRejected: (index: number, cause: unknown) => void,
): { rows: AuditRow[]; accepted: number[] } {
  const rows: AuditRow[] = [];
  const accepted: number[] = [];
  let { seq, hash } = head;
  records.forEach((record, index) => {
    try {
      const row = toRow(chainAuditRecord(record, hash), seq + 1n);
      rows.push(row);
      accepted.push(index);
      seq += 1n;
      hash = row.hash;
    } catch (cause) {
      onRejected(index, cause);
    }
  });
  return { rows, accepted };
}

/** Checks that a stored row's lookup columns say what its hashed record says. */
export function rowMismatch(
  row: AuditRow,
  record: ChainedAuditRecord,
  expectedSeq: bigint,
): string | undefined {
  if (row.seq !== expectedSeq.toString()) return `expected seq ${expectedSeq}, got ${row.seq}`;
  let expected: AuditRow;
  try {
    expected = toRow(record, expectedSeq);
  } catch (error) {
    return (error as Error).message;
  }
  const fields = ['auditId', 'recordedAt', 'tenant', 'outcome', 'prevHash', 'hash'] as const;
  for (const field of fields) {
    const stored = field === 'recordedAt' ? new Date(row.recordedAt).toISOString() : row[field];
    if (stored !== expected[field]) {
      return `column ${field}: expected ${JSON.stringify(expected[field])}, got ${JSON.stringify(stored)}`;
    }
  }
  return undefined;
}
