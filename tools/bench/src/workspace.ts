// What the bench takes from the workspace: an embedded profile per round, the request body of the
// e2e suites, and the audit-file checks (the service's own reader and hash-chain verifier).
import { readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { generateEmbeddedProfile, type EmbeddedProfile } from '@signer/dev';
import { createAuditPool, readAuditFile, verifyAuditFile, verifyPostgresAudit } from '@signer/infra-store';
import type { AuditCheck } from './types';

/** The embedded profile with what the bench reads from its files. */
export interface BenchProfile extends EmbeddedProfile {
  poe: string;
  authorityPrivateJwk: JWK;
  signingKeyFile: string;
  auditFile: string;
}

/** Generates an embedded profile into `dir` (absolute); returns it with its secrets read. */
export async function generateProfile(dir: string): Promise<BenchProfile> {
  const profile = await generateEmbeddedProfile(dir);
  return {
    ...profile,
    poe: readFileSync(profile.poeFile, 'utf8').trim(),
    authorityPrivateJwk: JSON.parse(readFileSync(profile.authorityPrivateJwkFile, 'utf8')) as JWK,
    signingKeyFile: join(dir, 'signing/default.pem'),
    auditFile: join(dir, 'audit/audit.jsonl'),
  };
}

/**
 * The body of the e2e suites' valid request (apps/signer-api/test/harness.ts `validBody`);
 * `overrides` replace top-level fields (a variant's `options` or scanner digest).
 */
export function signRequestBody(profile: BenchProfile, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    subject: [
      { name: `registry.example/app@sha256:${'ab'.repeat(32)}`, digest: { sha256: 'ab'.repeat(32) } },
    ],
    predicateType: 'https://stella-ops.org/attestations/sbom/1',
    predicate: { sbom: { format: 'cyclonedx', components: 3 } },
    scannerImageDigest: profile.scannerImageDigest,
    poe: { format: 'jwt', value: profile.poe },
    ...overrides,
  });
}

const FILESYSTEMS: Record<number, string> = {
  0xef53: 'ext2/3/4',
  0x01021994: 'tmpfs',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x794c7630: 'overlayfs',
};

/** The filesystem an audit file lives on: a durable trail on tmpfs would measure nothing. */
export function filesystemOf(path: string): string {
  const { type } = statfsSync(path);
  return FILESYSTEMS[type] ?? `0x${type.toString(16)}`;
}

/** What the trail must show: the chain verified, and a `signed` record for every 200 received. */
export function auditProblems(input: {
  chain: { ok: true } | { ok: false; index: number; reason: string };
  signed: ReadonlySet<string>;
  acknowledgedIds: readonly string[];
  maxUnacknowledged: number;
}): Pick<AuditCheck, 'unacknowledged' | 'problems'> {
  const { chain, signed, acknowledgedIds, maxUnacknowledged } = input;
  const missing = acknowledgedIds.filter((id) => !signed.has(id));
  const unacknowledged = signed.size - (acknowledgedIds.length - missing.length);
  const problems: string[] = [];
  if (!chain.ok) problems.push(`hash chain broken at record ${chain.index}: ${chain.reason}`);
  if (new Set(acknowledgedIds).size !== acknowledgedIds.length)
    problems.push('an audit id was answered twice');
  if (missing.length > 0)
    problems.push(`${missing.length} answered 200s have no signed record (first ${missing[0]})`);
  if (unacknowledged > maxUnacknowledged) {
    problems.push(
      `expected at most ${maxUnacknowledged} signed records without a received 200, got ${unacknowledged}`,
    );
  }
  return { unacknowledged, problems };
}

/**
 * Checks the trail after the service stopped: the hash chain verifies, and every 200 the load
 * generator received has its `signed` record. Records of requests still in flight when a run
 * stopped (answered after the client hung up) are counted separately; they must stay few.
 */
export async function checkAuditTrail(
  auditFile: string,
  acknowledgedIds: readonly string[],
  maxUnacknowledged: number,
): Promise<AuditCheck> {
  const chain = await verifyAuditFile(auditFile);
  const signed = new Set<string>();
  const outcomes: Record<string, number> = {};
  for await (const record of readAuditFile(auditFile)) {
    outcomes[record.outcome] = (outcomes[record.outcome] ?? 0) + 1;
    if (record.outcome === 'signed') signed.add(record.auditId);
  }
  return {
    records: chain.ok ? chain.count : undefined,
    outcomes,
    acknowledged: acknowledgedIds.length,
    ...auditProblems({ chain, signed, acknowledgedIds, maxUnacknowledged }),
  };
}

/** {@link checkAuditTrail} for a PostgreSQL trail: every chain and checkpoint verifies, every 200 has its row. */
export async function checkPostgresAuditTrail(
  url: string,
  acknowledgedIds: readonly string[],
  maxUnacknowledged: number,
): Promise<AuditCheck> {
  const pool = createAuditPool({ connectionString: url, poolSize: 1, queryTimeoutMs: 120_000 });
  try {
    const chain = await verifyPostgresAudit(pool);
    const signed = new Set<string>();
    const outcomes: Record<string, number> = {};
    const { rows } = await pool.query<{ audit_id: string; outcome: string }>(
      `SELECT audit_id, outcome FROM signer_audit.chain_records
       UNION ALL SELECT audit_id, outcome FROM signer_audit.records`,
    );
    for (const row of rows) {
      outcomes[row.outcome] = (outcomes[row.outcome] ?? 0) + 1;
      if (row.outcome === 'signed') signed.add(row.audit_id);
    }
    return {
      records: chain.ok ? chain.count : undefined,
      outcomes,
      acknowledged: acknowledgedIds.length,
      ...auditProblems({ chain, signed, acknowledgedIds, maxUnacknowledged }),
    };
  } finally {
    await pool.end();
  }
}
