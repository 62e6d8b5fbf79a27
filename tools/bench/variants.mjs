// Variant runs: the base signer run (memory store, file:// key, embedded profile) again with one
// thing changed, measured in the same invocation so the ratio variant / base describes the same
// machine. Each variant says what it configures, which loopback fakes it needs (fakes.mjs), and
// what its counters must show. See docs/performance.md, "Variant runs".
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

/** The key id the aws-kms variant adds to `signing.keys` and names in its requests. */
const KMS_KEY_ID = 'bench';

const check = (what, ok) => ({ what, ok });

/** A copy of the profile's config, edited, next to it (its relative paths keep resolving). */
function writeVariantConfig(profile, name, edit) {
  const config = parse(readFileSync(profile.configPath, 'utf8'));
  edit(config);
  const path = join(profile.dir, `signer-${name}.yaml`);
  writeFileSync(path, stringify(config));
  return path;
}

export const VARIANTS = [
  {
    name: 'token-cache-off',
    configures: 'authority.tokenCache.maxTtlSeconds: 0 (every request verifies its OpTok)',
    fakes: [],
    prepare: () => ({ env: { SIGNER__AUTHORITY__TOKENCACHE__MAXTTLSECONDS: '0' } }),
    checks: ({ window }) => [
      check('no verified-token cache hit in the window', window.cacheHits.optok === 0),
    ],
  },
  {
    name: 'redis',
    configures: 'quotas.store: redis at a redis-server of its own on the load core',
    // createSharedState (apps/signer-api/src/wiring/shared-state.ts) moves all of these with the store.
    switched:
      'quota gate, DPoP replay cache and nonces, PoE decision cache, release verdict cache, idempotency records, KMS rate shaper',
    target: 0.8,
    fakes: [],
    redis: true,
    prepare: ({ redis }) => ({
      env: { SIGNER__QUOTAS__STORE: 'redis', SIGNER__QUOTAS__REDISURL: redis.url },
    }),
    checks: () => [],
  },
  {
    name: 'keyless',
    configures:
      'signing.keyless against the loopback FakeFulcio + TestOidcIssuer; options.signingMode: keyless',
    target: 0.9,
    fakes: ['fulcio'],
    prepare: ({ fakes }) => ({
      env: {
        SIGNER__SIGNING__KEYLESS: JSON.stringify({
          fulcioUrl: fakes.fulcio.url,
          identityTokenFile: fakes.fulcio.tokenFile,
        }),
      },
      body: { options: { signingMode: 'keyless' } },
    }),
    checks: ({ upstream }) => [
      check('exactly one Fulcio call in the run', upstream.total.fulcioCalls === 1),
      check('no Fulcio call in the window', upstream.window.fulcioCalls === 0),
    ],
  },
  {
    name: 'aws-kms',
    configures: `signing.keys.${KMS_KEY_ID}: awskms:// P-256 key on the loopback FakeAwsKms; options.keyId: ${KMS_KEY_ID}`,
    fakes: ['aws-kms'],
    prepare: ({ fakes }) => ({
      env: {
        [`SIGNER__SIGNING__KEYS__${KMS_KEY_ID.toUpperCase()}`]: JSON.stringify({
          ref: `awskms://${fakes['aws-kms'].arn}`,
          endpoint: fakes['aws-kms'].endpoint,
        }),
        AWS_ACCESS_KEY_ID: fakes['aws-kms'].accessKeyId,
        AWS_SECRET_ACCESS_KEY: fakes['aws-kms'].secretAccessKey,
        AWS_REGION: fakes['aws-kms'].region,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      body: { options: { keyId: KMS_KEY_ID } },
    }),
    checks: ({ upstream }) => [check('no KMS request failed', upstream.total.kmsErrors === 0)],
  },
  {
    name: 'cached-verdict',
    configures: 'releaseIntegrity.registryUrl: a loopback ReferrersRegistry (no OCI layout)',
    fakes: ['registry'],
    prepare: ({ fakes, profile }) => ({
      configPath: writeVariantConfig(profile, 'cached-verdict', (config) => {
        delete config.releaseIntegrity.ociLayoutPath;
        config.releaseIntegrity.registryUrl = fakes.registry.url;
        config.releaseIntegrity.trustedKeysFiles = [fakes.registry.trustedKeysFile];
      }),
      body: { scannerImageDigest: fakes.registry.scannerDigest },
    }),
    checks: ({ upstream }) => [
      check('the first verdict came from the registry', upstream.total.registryRequests > 0),
      check('no registry request in the window', upstream.window.registryRequests === 0),
    ],
  },
];

export const VARIANT_NAMES = VARIANTS.map((variant) => variant.name);

/** `BENCH_VARIANTS`: unset or empty = all, `none` = base only, else a comma list (run in table order). */
export function parseVariants(raw) {
  if (raw === undefined || raw.trim() === '') return [...VARIANTS];
  const names = raw
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 1 && names[0] === 'none') return [];
  const unknown = names.filter((name) => !VARIANT_NAMES.includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(
      `BENCH_VARIANTS: unknown ${unknown.join(', ') || '(empty)'}; expected none or a comma list of ${VARIANT_NAMES.join(', ')}`,
    );
  }
  return VARIANTS.filter((variant) => names.includes(variant.name));
}

/**
 * Variant runs are spread over the rounds: run k (of max(variants, rounds)) is variant k mod n in
 * round k mod rounds + 1. So each variant runs once, and more often when there are more rounds than
 * variants (`BENCH_VARIANTS=redis BENCH_ROUNDS=5`: five redis runs, one per round).
 */
export function variantsOfRound(variants, round, rounds) {
  const runs = variants.length === 0 ? 0 : Math.max(variants.length, rounds);
  return Array.from({ length: runs }, (_, k) => k)
    .filter((k) => k % rounds === round - 1)
    .map((k) => variants[k % variants.length]);
}
