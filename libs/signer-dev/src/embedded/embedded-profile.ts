import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { DEV_AUDIENCE, DEV_ISSUER, DevAuthority } from '../authority/dev-authority';
import { DevLicensing } from '../licensing/dev-licensing';
import { generateReleaseKey, writePublicKeysFile } from '../release/release-keys';
import { buildScannerRelease, DEFAULT_SCANNER_REPOSITORY } from '../release/scanner-release';
import { liveSignerUrl } from './running-service';

export const DEV_TENANT = 'tenant-dev';
export const DEV_INSTALLATION = 'inst-dev';
export const DEV_PREDICATES = [
  'https://stella-ops.org/attestations/sbom/1',
  'https://stella-ops.org/attestations/vex/1',
  'https://stella-ops.org/attestations/scan-report/1',
  'https://slsa.dev/provenance/v1',
];

/**
 * Bumped when generated profiles change shape; `npm start` regenerates an older one. 2: the config
 * no longer fixes `server.port`/`publicBaseUrl`, so `SIGNER__SERVER__PORT` moves every URL.
 * 3: managed key state and ceremonies in files of the profile (`state.store: file`).
 */
export const EMBEDDED_PROFILE_FORMAT = 3;
/** The managed state file of a profile with `stateStore: 'file'`; ceremonies go next to it. */
export const EMBEDDED_STATE_FILE = 'state/managed-state.json';
/** The port of a profile generated without one (the config schema's default). */
export const EMBEDDED_DEFAULT_PORT = 8080;

/** What a dev client needs to call a Signer running on this profile (written as `profile.json`). */
export interface EmbeddedProfile {
  format: number;
  dir: string;
  configPath: string;
  /** Where the service on this profile listens: as `npm start` reports it, else the configured URL. */
  signerUrl: string;
  tenant: string;
  installation: string;
  scannerImageDigest: string;
  authorityPrivateJwkFile: string;
  poeFile: string;
  licensingPrivateJwkFile: string;
}

/**
 * A dev scanner release signed by a fresh release key: the key's public half in
 * `<dir>/release/trusted-keys.pem`, the signed image in the OCI layout `<dir>/release/layout`.
 */
export function writeDevRelease(dir: string): ReturnType<typeof buildScannerRelease> {
  const releaseKey = generateReleaseKey('ecdsa-p256');
  writePublicKeysFile(join(dir, 'release/trusted-keys.pem'), [releaseKey]);
  return buildScannerRelease({ dir: join(dir, 'release/layout'), signatures: [{ key: releaseKey }] });
}

export interface EmbeddedProfileOptions {
  host?: string;
  /** Fixes `server.port` in the config (harnesses); without it the port is the default or `SIGNER__SERVER__PORT`. */
  port?: number;
  nonce?: 'required' | 'optional';
  /**
   * `file` (default): keys registered, activated or retired by ceremony, defaults, trust anchors
   * and the ceremonies themselves are kept in the profile (`state/`), so `npm start` restarts with
   * them. `memory`: every process seeds its own state from the config, as before. A file store has
   * one writer, so harnesses that start several processes on one profile, or that point the state
   * at PostgreSQL by environment, choose `memory`.
   */
  stateStore?: 'file' | 'memory';
}

function writeSecret(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
}

/**
 * Generates every piece of local material the embedded profile needs — dev Authority, Licensing,
 * release and signing keys, a signed dev scanner image in an OCI layout, a PoE and a config — with
 * paths relative to `dir` so the folder can move. Real keys, real signatures; nothing is a stub.
 */
export async function generateEmbeddedProfile(
  dir: string,
  options: EmbeddedProfileOptions = {},
): Promise<EmbeddedProfile> {
  const host = options.host ?? '127.0.0.1';
  const stateStore = options.stateStore ?? 'file';
  // The keys below are new: a state left by an earlier generation would name material that is gone.
  rmSync(join(dir, 'state'), { recursive: true, force: true });
  const folders = ['authority', 'licensing', 'release', 'signing', 'audit'];
  for (const sub of stateStore === 'file' ? [...folders, 'state'] : folders)
    mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });

  const authority = await DevAuthority.create();
  writeSecret(join(dir, 'authority/private.jwk.json'), JSON.stringify(await authority.privateJwk(), null, 2));
  writeFileSync(join(dir, 'authority/jwks.json'), JSON.stringify(authority.jwks(), null, 2));

  const licensing = await DevLicensing.create();
  writeSecret(join(dir, 'licensing/private.jwk.json'), JSON.stringify(await licensing.privateJwk(), null, 2));
  writeFileSync(join(dir, 'licensing/jwks.json'), JSON.stringify(licensing.jwks(), null, 2));
  const poe = await licensing.mintPoe({
    license_id: 'lic-dev-0001',
    tenant: DEV_TENANT,
    installation: DEV_INSTALLATION,
    plan: 'pro',
    valid_release_year: 2030,
    max_version: '1.99.99',
  });
  writeSecret(join(dir, 'licensing/poe.jwt'), poe);

  const release = writeDevRelease(dir);

  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeSecret(
    join(dir, 'signing/default.pem'),
    privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );

  const config = {
    // No publicBaseUrl: the service derives it from the address it really listens on.
    server: { host, ...(options.port === undefined ? {} : { port: options.port }), bodyLimitBytes: 1048576 },
    authority: {
      issuer: DEV_ISSUER,
      jwksFile: 'authority/jwks.json',
      audience: DEV_AUDIENCE,
      requiredScope: 'signer.sign',
      allowedAlgorithms: ['ES256', 'ES384', 'EdDSA', 'PS256'],
      senderConstraint: 'dpop',
      clockSkewSeconds: 30,
      dpop: { nonce: options.nonce ?? 'required', nonceTtlSeconds: 300 },
    },
    licensing: {
      offlineJwksFile: 'licensing/jwks.json',
      cacheTtlSeconds: 120,
      negativeCacheTtlSeconds: 30,
      timeoutMs: 2000,
    },
    releaseIntegrity: {
      scannerRepository: DEFAULT_SCANNER_REPOSITORY,
      ociLayoutPath: 'release/layout',
      trustedKeysFiles: ['release/trusted-keys.pem'],
      cacheTtlSeconds: 3600,
      negativeCacheTtlSeconds: 30,
      timeoutMs: 3000,
    },
    quotas: {
      store: 'memory',
      plans: {
        pro: { qps: 1000, burst: 2000, concurrency: 128, maxArtifactBytes: 10485760, dailyCap: 10000000 },
        team: { qps: 100, burst: 100, concurrency: 16, maxArtifactBytes: 1048576, dailyCap: 100000 },
      },
    },
    signing: { defaultMode: 'kms', keys: { default: { ref: 'file://signing/default.pem' } } },
    ...(stateStore === 'file' ? { state: { store: 'file', filePath: EMBEDDED_STATE_FILE } } : {}),
    predicates: { allowed: DEV_PREDICATES },
    audit: { sink: 'file', filePath: 'audit/audit.jsonl' },
  };
  const configPath = join(dir, 'signer.yaml');
  writeFileSync(
    configPath,
    `# Embedded (dev) profile, generated once; every gate is active on local material.\n` +
      `# Move the port with SIGNER__SERVER__PORT (npm start); the URLs follow.\n${stringify(config)}`,
  );

  const profile: EmbeddedProfile = {
    format: EMBEDDED_PROFILE_FORMAT,
    dir,
    configPath,
    signerUrl: `http://${host}:${options.port ?? EMBEDDED_DEFAULT_PORT}`,
    tenant: DEV_TENANT,
    installation: DEV_INSTALLATION,
    scannerImageDigest: release.scannerDigest,
    authorityPrivateJwkFile: join(dir, 'authority/private.jwk.json'),
    poeFile: join(dir, 'licensing/poe.jwt'),
    licensingPrivateJwkFile: join(dir, 'licensing/private.jwk.json'),
  };
  const relative = {
    ...profile,
    dir: '.',
    configPath: 'signer.yaml',
    authorityPrivateJwkFile: 'authority/private.jwk.json',
  };
  Object.assign(relative, {
    poeFile: 'licensing/poe.jwt',
    licensingPrivateJwkFile: 'licensing/private.jwk.json',
  });
  writeFileSync(join(dir, 'profile.json'), JSON.stringify(relative, null, 2));
  return profile;
}

/**
 * Reads `profile.json`, resolving its paths against `dir` (the folder may have moved); `signerUrl`
 * is where `npm start` reports the service on this profile listening, if it runs.
 */
export function readEmbeddedProfile(dir: string): EmbeddedProfile {
  const stored = JSON.parse(readFileSync(join(dir, 'profile.json'), 'utf8')) as EmbeddedProfile;
  return {
    ...stored,
    dir,
    signerUrl: liveSignerUrl(dir, stored.signerUrl),
    configPath: resolve(dir, stored.configPath),
    authorityPrivateJwkFile: resolve(dir, stored.authorityPrivateJwkFile),
    poeFile: resolve(dir, stored.poeFile),
    licensingPrivateJwkFile: resolve(dir, stored.licensingPrivateJwkFile),
  };
}

/**
 * The URL the CLI's dev commands target by default: the Signer `npm start` runs on the profile in
 * `dir`, on whatever port `SIGNER__SERVER__PORT` gave it (`http://127.0.0.1:8080` when not running).
 */
export function embeddedSignerUrl(dir: string): string {
  return readEmbeddedProfile(dir).signerUrl;
}

/** The profile in `dir`, generated when absent or of an older format; `generated` says which. */
export async function ensureEmbeddedProfile(
  dir: string,
): Promise<{ profile: EmbeddedProfile; generated: boolean }> {
  if (existsSync(join(dir, 'profile.json'))) {
    const profile = readEmbeddedProfile(dir);
    if (profile.format === EMBEDDED_PROFILE_FORMAT) return { profile, generated: false };
  }
  return { profile: await generateEmbeddedProfile(dir), generated: true };
}
