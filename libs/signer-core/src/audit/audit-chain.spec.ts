import { createHash } from 'node:crypto';
import { canonicalize } from '../canonical-json/canonical-json';
import {
  GENESIS_HASH,
  auditRecordHash,
  chainAuditLine,
  chainAuditRecord,
  verifyAuditChain,
} from './audit-chain';
import { newAuditId } from './audit-id';
import type { AuditRecord, ChainedAuditRecord } from './audit-record';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function record(n: number): AuditRecord {
  return {
    auditId: newAuditId(new Date(Date.UTC(2026, 10, 28, 12, 0, n))),
    time: new Date(Date.UTC(2026, 10, 28, 12, 0, n)).toISOString(),
    correlationId: `corr-${n}`,
    route: 'POST /api/v1/signer/sign/dsse',
    outcome: n % 2 === 0 ? 'signed' : 'plan_throttled',
    tenant: 'tenant-ä',
    subjectDigests: [`sha256:${'ab'.repeat(32)}`],
    gates: { body: 'pass', quota: n % 2 === 0 ? 'pass' : 'plan_throttled' },
    latencyMs: 1.25,
  };
}

describe('audit chain', () => {
  it('hashes the RFC 8785 form of the record with prevHash, recomputed independently', () => {
    const r = record(0);
    const expected = createHash('sha256')
      .update(canonicalize({ ...r, prevHash: GENESIS_HASH }), 'utf8')
      .digest('hex');
    expect(auditRecordHash(r, GENESIS_HASH)).toBe(expected);
    expect(chainAuditRecord(r, GENESIS_HASH)).toEqual({ ...r, prevHash: GENESIS_HASH, hash: expected });
  });

  it('writes a line that parses to the chained record, hashed text first and hash last', () => {
    const r = record(1);
    const { hash, line } = chainAuditLine(r, 'f'.repeat(64));
    expect(JSON.parse(line)).toEqual(chainAuditRecord(r, 'f'.repeat(64)));
    expect(line).toBe(`${canonicalize({ ...r, prevHash: 'f'.repeat(64) }).slice(0, -1)},"hash":"${hash}"}`);
    expect(line).not.toContain('\n');
  });

  it('verifies a chain of lines and names the first tampered or reordered record', () => {
    const stored: ChainedAuditRecord[] = [];
    let prev = GENESIS_HASH;
    for (let n = 0; n < 4; n += 1) {
      const { hash, line } = chainAuditLine(record(n), prev);
      stored.push(JSON.parse(line) as ChainedAuditRecord);
      prev = hash;
    }
    expect(verifyAuditChain(stored)).toEqual({ ok: true, count: 4, lastHash: prev });
    const tampered = stored.map((r, i) => (i === 2 ? { ...r, tenant: 'other' } : r));
    expect(verifyAuditChain(tampered)).toMatchObject({ ok: false, index: 2 });
    expect(verifyAuditChain([stored[0], stored[2]])).toMatchObject({ ok: false, index: 1 });
  });

  it('refuses a record that has no UTF-8 form instead of hashing something else', () => {
    expect(() => chainAuditLine({ ...record(0), tenant: 'x\ud800' }, GENESIS_HASH)).toThrow(/lone surrogate/);
  });
});

describe('newAuditId', () => {
  it('is a UUIDv7 carrying the decision time in its first 48 bits', () => {
    const at = new Date(Date.UTC(2026, 10, 28, 19, 30, 0, 123));
    const id = newAuditId(at);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at.getTime());
  });

  it('stays unique across many pool refills and sorts by time', () => {
    const at = new Date(Date.UTC(2026, 10, 28));
    const ids = Array.from({ length: 5000 }, () => newAuditId(at));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(UUID_V7);
    const later = newAuditId(new Date(at.getTime() + 1));
    expect([...ids, later].sort().at(-1)).toBe(later);
  });
});
