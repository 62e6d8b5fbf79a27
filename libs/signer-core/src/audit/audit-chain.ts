import { createHash } from 'node:crypto';
import { canonicalize } from '../canonical-json/canonical-json';
import type { AuditRecord, ChainedAuditRecord } from './audit-record';

/** The `prevHash` of the first record of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** SHA-256 hex over the canonical JSON of the record including `prevHash` (excluding `hash`). */
export function auditRecordHash(record: AuditRecord, prevHash: string): string {
  return createHash('sha256')
    .update(canonicalize({ ...record, prevHash }))
    .digest('hex');
}

export function chainAuditRecord(record: AuditRecord, prevHash: string): ChainedAuditRecord {
  return { ...record, prevHash, hash: auditRecordHash(record, prevHash) };
}

export type ChainCheck =
  { ok: true; count: number; lastHash: string } | { ok: false; index: number; reason: string };

/** Walks a chain in order and reports the first broken link. */
export function verifyAuditChain(
  records: Iterable<ChainedAuditRecord>,
  startHash = GENESIS_HASH,
): ChainCheck {
  let expectedPrev = startHash;
  let index = 0;
  for (const stored of records) {
    const { hash, prevHash, ...record } = stored;
    if (prevHash !== expectedPrev) {
      return { ok: false, index, reason: `expected prevHash ${expectedPrev}, got ${prevHash}` };
    }
    const actual = auditRecordHash(record, prevHash);
    if (actual !== hash) return { ok: false, index, reason: `expected hash ${actual}, got ${hash}` };
    expectedPrev = hash;
    index += 1;
  }
  return { ok: true, count: index, lastHash: expectedPrev };
}
