// Variant runs: the base signer run (memory store, file:// key, embedded profile) again with one
// thing changed, measured in the same invocation so the ratio variant / base describes the same
// machine. Each variant says what it configures, which loopback fakes it needs (fakes.ts), and
// what its counters must show. See docs/performance.md, "Variant runs".
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { BenchProfile } from './workspace';
import type { FakeName, StartedFakes } from './fakes';
import type { Check, SignerRun } from './types';

/** The key id the aws-kms and pkcs11 variants add to `signing.keys` and name in their requests. */
const KMS_KEY_ID = 'bench';

export const VARIANT_NAMES = [
  'token-cache-off',
  'redis',
  'redis-postgres',
  'keyless',
  'aws-kms',
  'pkcs11',
  'cached-verdict',
] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

/** What a variant changes: environment, a config file of its own, fields of the request body. */
export interface VariantSetup {
  env?: Record<string, string>;
  configPath?: string;
  body?: Record<string, unknown>;
}

export interface Variant {
  name: VariantName;
  configures: string;
  /** What moves with the change, when it is more than `configures` says. */
  switched?: string;
  /** Least ratio variant / base bundles/s, when the variant has one. */
  target?: number;
  fakes: FakeName[];
  /** Runs a redis-server of its own on the load core. */
  redis?: boolean;
  /** Writes its audit trail to a private database on the machine's PostgreSQL, dropped afterwards. */
  postgres?: boolean;
  prepare(input: {
    fakes: StartedFakes;
    profile: BenchProfile;
    redis?: { url: string };
    postgres?: { url: string };
  }): VariantSetup;
  checks(run: SignerRun): Check[];
}

const check = (what: string, ok: boolean): Check => ({ what, ok });

function started<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`expected ${what} to be running, got nothing`);
  return value;
}

/** A copy of the profile's config, edited, next to it (its relative paths keep resolving). */
function writeVariantConfig(
  profile: BenchProfile,
  name: string,
  edit: (config: Record<string, unknown>) => void,
) {
  const config = parse(readFileSync(profile.configPath, 'utf8')) as Record<string, unknown>;
  edit(config);
  const path = join(profile.dir, `signer-${name}.yaml`);
  writeFileSync(path, stringify(config));
  return path;
}

export const VARIANTS: readonly Variant[] = [
  {
    name: 'token-cache-off',
    configures: 'authority.tokenCache.maxTtlSeconds: 0 (every request verifies its OpTok)',
    fakes: [],
    prepare: () => ({ env: { SIGNER__AUTHORITY__TOKENCACHE__MAXTTLSECONDS: '0' } }),
    checks: ({ window }) => [
      check('no verified-token cache hit in the window', window.cacheHits['optok'] === 0),
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
      env: { SIGNER__QUOTAS__STORE: 'redis', SIGNER__QUOTAS__REDISURL: started(redis, 'redis-server').url },
    }),
    checks: () => [],
  },
  {
    name: 'redis-postgres',
    configures:
      "quotas.store: redis (a redis-server of its own on the load core) + audit.sink: postgres (a private database on the machine's PostgreSQL)",
    switched:
      'the shared state in Redis (as the redis variant) and the audit trail in PostgreSQL: a fleet replica',
    fakes: [],
    redis: true,
    postgres: true,
    prepare: ({ redis, postgres }) => ({
      env: {
        SIGNER__QUOTAS__STORE: 'redis',
        SIGNER__QUOTAS__REDISURL: started(redis, 'redis-server').url,
        SIGNER__AUDIT__SINK: 'postgres',
        SIGNER__AUDIT__POSTGRESURL: started(postgres, 'the audit database').url,
      },
    }),
    checks: ({ upstream }) => [
      check('Redis commands in the window', (upstream.window.redisCommands ?? 0) > 0),
      check('audit commits in the window', (upstream.window.auditCommits ?? 0) > 0),
    ],
  },
  {
    name: 'keyless',
    configures:
      'signing.keyless against the loopback FakeFulcio + TestOidcIssuer; options.signingMode: keyless',
    target: 0.9,
    fakes: ['fulcio'],
    prepare: ({ fakes }) => {
      const fulcio = started(fakes.fulcio, 'the fake Fulcio');
      return {
        env: {
          SIGNER__SIGNING__KEYLESS: JSON.stringify({
            fulcioUrl: fulcio.url,
            identityTokenFile: fulcio.tokenFile,
          }),
        },
        body: { options: { signingMode: 'keyless' } },
      };
    },
    checks: ({ upstream }) => [
      check('exactly one Fulcio call in the run', upstream.total.fulcioCalls === 1),
      check('no Fulcio call in the window', upstream.window.fulcioCalls === 0),
    ],
  },
  {
    name: 'aws-kms',
    configures: `signing.keys.${KMS_KEY_ID}: awskms:// P-256 key on the loopback FakeAwsKms; options.keyId: ${KMS_KEY_ID}`,
    fakes: ['aws-kms'],
    prepare: ({ fakes }) => {
      const kms = started(fakes['aws-kms'], 'the fake AWS KMS');
      return {
        env: {
          [`SIGNER__SIGNING__KEYS__${KMS_KEY_ID.toUpperCase()}`]: JSON.stringify({
            ref: `awskms://${kms.arn}`,
            endpoint: kms.endpoint,
          }),
          AWS_ACCESS_KEY_ID: kms.accessKeyId,
          AWS_SECRET_ACCESS_KEY: kms.secretAccessKey,
          AWS_REGION: kms.region,
          AWS_EC2_METADATA_DISABLED: 'true',
        },
        body: { options: { keyId: KMS_KEY_ID } },
      };
    },
    checks: ({ upstream }) => [check('no KMS request failed', upstream.total.kmsErrors === 0)],
  },
  {
    name: 'pkcs11',
    configures: `signing.keys.${KMS_KEY_ID}: pkcs11: P-256 key in a SoftHSM2 token (module loaded in the Signer); options.keyId: ${KMS_KEY_ID}`,
    fakes: ['softhsm'],
    prepare: ({ fakes }) => {
      const hsm = started(fakes.softhsm, 'the SoftHSM2 token');
      return {
        env: {
          [`SIGNER__SIGNING__KEYS__${KMS_KEY_ID.toUpperCase()}`]: JSON.stringify({ ref: hsm.ref }),
          // SoftHSM reads its config at C_Initialize, from the Signer's own environment.
          SOFTHSM2_CONF: hsm.conf,
        },
        body: { options: { keyId: KMS_KEY_ID } },
      };
    },
    // No fake counts the token's work: the load generator's answers are the evidence.
    checks: ({ ok2xx, non2xx, errors }) => [
      check('every request answered 200', ok2xx > 0 && non2xx === 0 && errors === 0),
    ],
  },
  {
    name: 'cached-verdict',
    configures: 'releaseIntegrity.registryUrl: a loopback ReferrersRegistry (no OCI layout)',
    fakes: ['registry'],
    prepare: ({ fakes, profile }) => {
      const registry = started(fakes.registry, 'the fake registry');
      return {
        configPath: writeVariantConfig(profile, 'cached-verdict', (config) => {
          const integrity = config['releaseIntegrity'] as Record<string, unknown>;
          delete integrity['ociLayoutPath'];
          integrity['registryUrl'] = registry.url;
          integrity['trustedKeysFiles'] = [registry.trustedKeysFile];
        }),
        body: { scannerImageDigest: registry.scannerDigest },
      };
    },
    checks: ({ upstream }) => [
      check('the first verdict came from the registry', (upstream.total.registryRequests ?? 0) > 0),
      check('no registry request in the window', upstream.window.registryRequests === 0),
    ],
  },
];

const isVariantName = (name: string): name is VariantName =>
  (VARIANT_NAMES as readonly string[]).includes(name);

/** `BENCH_VARIANTS`: unset or empty = all, `none` = base only, else a comma list (run in table order). */
export function parseVariants(raw: string | undefined): Variant[] {
  if (raw === undefined || raw.trim() === '') return [...VARIANTS];
  const names = raw
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 1 && names[0] === 'none') return [];
  const unknown = names.filter((name) => !isVariantName(name));
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
export function variantsOfRound<T>(variants: readonly T[], round: number, rounds: number): T[] {
  const runs = variants.length === 0 ? 0 : Math.max(variants.length, rounds);
  return Array.from({ length: runs }, (_, k) => k)
    .filter((k) => k % rounds === round - 1)
    .flatMap((k) => variants[k % variants.length] ?? []);
}
