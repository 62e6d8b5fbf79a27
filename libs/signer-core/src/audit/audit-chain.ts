import { hash } from 'node:crypto';
import { canonicalize } from '../canonical-json/canonical-json';
import type { AuditRecord, ChainedAuditRecord } from './audit-record';

/** The `prevHash` of the first record of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The text a record's `hash` covers: the canonical JSON of the record including `prevHash`. */
function hashedText(record: AuditRecord, prevHash: string): string {
  return canonicalize({ ...record, prevHash });
}

const sha256Hex = (text: string): string => hash('sha256', text, 'hex');

/** SHA-256 hex over the canonical JSON of the record including `prevHash` (excluding `hash`). */
export function auditRecordHash(record: AuditRecord, prevHash: string): string {
  return sha256Hex(hashedText(record, prevHash));
}

export function chainAuditRecord(record: AuditRecord, prevHash: string): ChainedAuditRecord {
  return { ...record, prevHash, hash: auditRecordHash(record, prevHash) };
}

/**
 * A chained record as one JSON text (no newline): the canonical text that was hashed, with `hash`
 * appended as its last member. Parsing it gives {@link chainAuditRecord}'s result; the record is
 * serialised once, not once to hash and again to store.
 */
export function chainAuditLine(record: AuditRecord, prevHash: string): { hash: string; line: string } {
  const text = hashedText(record, prevHash);
  const hash = sha256Hex(text);
  return { hash, line: `${text.slice(0, -1)},"hash":"${hash}"}` };
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
