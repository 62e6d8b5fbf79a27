// What the bench takes from the workspace: the built service, an embedded profile, and — bundled
// from the TypeScript libs so there is one source of truth — the dev Authority (to mint OpToks),
// the audit-file verifier (hash chain, record by record), the redis variant's own redis-server and
// the loopback fakes the variant runs talk to (loaded by fakes.mjs in a process of their own).
import { execFileSync } from 'node:child_process';
import { readFileSync, statfsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { buildEntry } from '../build.mjs';

export const root = join(import.meta.dirname, '..', '..');
const KIT_OUT = 'dist/tools/bench-kit.js';
const KIT_SOURCE = `
export { DevAuthority } from './libs/signer-dev/src/authority/dev-authority';
export { readAuditFile, verifyAuditFile } from './libs/signer-infra-store/src/file/audit-file';
export { PrivateRedis } from './libs/signer-testing/src/redis/private-redis';
`;
const FAKES_OUT = 'dist/tools/bench-fakes.js';
const FAKES_SOURCE = `
export { FakeFulcio } from './libs/signer-testing/src/fulcio/fake-fulcio';
export { FulcioTestCa } from './libs/signer-testing/src/fulcio/fulcio-test-ca';
export { TestOidcIssuer } from './libs/signer-testing/src/fulcio/test-oidc-issuer';
export { FakeAwsKms } from './libs/signer-testing/src/kms/aws/fake-aws-kms';
export { ReferrersRegistry } from './libs/signer-testing/src/registry/referrers-registry';
export { buildRegistryRelease } from './libs/signer-testing/src/registry/registry-release';
export { generateReleaseKey, writePublicKeysFile } from './libs/signer-dev/src/release/release-keys';
`;

/** Bundles TypeScript re-exports (workspace libs included, npm packages external) into `outfile`. */
function bundleKit(contents, sourcefile, outfile) {
  return build({
    absWorkingDir: root,
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    logLevel: 'warning',
    tsconfig: join(root, 'tsconfig.base.json'),
  });
}

/** Builds the service, the profile generator, the bench kit and the fakes; returns their entry points. */
export async function buildAll() {
  const [signerMain, profileGenerator] = [
    await buildEntry('signer-api'),
    await buildEntry('embedded-profile'),
  ];
  await bundleKit(KIT_SOURCE, 'bench-kit.ts', KIT_OUT);
  await bundleKit(FAKES_SOURCE, 'bench-fakes.ts', FAKES_OUT);
  const kit = createRequire(import.meta.url)(join(root, KIT_OUT));
  return { signerMain, profileGenerator, kit, fakesKit: join(root, FAKES_OUT) };
}

/** Generates an embedded profile into `dir`; returns it with absolute paths. */
export function generateProfile(profileGenerator, dir) {
  const out = execFileSync(process.execPath, [profileGenerator, dir], { encoding: 'utf8', timeout: 60_000 });
  const profile = JSON.parse(out);
  return {
    ...profile,
    poe: readFileSync(profile.poeFile, 'utf8').trim(),
    authorityPrivateJwk: JSON.parse(readFileSync(profile.authorityPrivateJwkFile, 'utf8')),
    signingKeyFile: join(dir, 'signing/default.pem'),
    auditFile: join(dir, 'audit/audit.jsonl'),
  };
}

/**
 * The body of the e2e suites' valid request (apps/signer-api/test/harness.ts `validBody`);
 * `overrides` replace top-level fields (a variant's `options` or scanner digest).
 */
export function signRequestBody(profile, overrides = {}) {
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

/** DSSE v1 pre-authentication encoding of a returned envelope: the bytes the service signed. */
export function preAuthEncoding({ payloadType, payload }) {
  const body = Buffer.from(payload, 'base64');
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${payloadType} ${body.length} `, 'utf8'), body]);
}

const FILESYSTEMS = {
  0xef53: 'ext2/3/4',
  0x01021994: 'tmpfs',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x794c7630: 'overlayfs',
};

/** The filesystem an audit file lives on: a durable trail on tmpfs would measure nothing. */
export function filesystemOf(path) {
  const { type } = statfsSync(path);
  return FILESYSTEMS[type] ?? `0x${type.toString(16)}`;
}

/**
 * Checks the trail after the service stopped: the hash chain verifies, and every 200 the load
 * generator received has its `signed` record. Records of requests still in flight when a run
 * stopped (answered after the client hung up) are counted separately; they must stay few.
 */
export async function checkAuditTrail(kit, auditFile, acknowledgedIds, maxUnacknowledged) {
  const chain = await kit.verifyAuditFile(auditFile);
  const signed = new Set();
  const outcomes = {};
  for await (const record of kit.readAuditFile(auditFile)) {
    outcomes[record.outcome] = (outcomes[record.outcome] ?? 0) + 1;
    if (record.outcome === 'signed') signed.add(record.auditId);
  }
  const missing = acknowledgedIds.filter((id) => !signed.has(id));
  const unacknowledged = signed.size - (acknowledgedIds.length - missing.length);
  const problems = [];
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
  return {
    records: chain.ok ? chain.count : undefined,
    outcomes,
    acknowledged: acknowledgedIds.length,
    unacknowledged,
    problems,
  };
}
