import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import {
  DEFAULT_SCANNER_REPOSITORY,
  DEV_AUDIENCE,
  DEV_ISSUER,
  DEV_PREDICATES,
  DevAuthority,
  writeDevRelease,
} from '@signer/dev';
import { AuthorityEndpoint } from '../authority/authority-endpoint';
import { FakeLicensingServer } from '../licensing/fake-licensing-server';
import { freePort } from '../net/free-port';
import { SignerProcess } from './signer-process';
import { findWorkspaceRoot } from './workspace-root';

/** The operator deployment's tenant and installation (not the embedded profile's). */
export const DIST_TENANT = 'tenant-operator';
export const DIST_INSTALLATION = 'inst-operator';

export interface DistSignerOptions {
  /** The bundle the image runs as /app/main.js; default `dist/apps/signer-api/main.js` (`nx run signer-api:build`). */
  main?: string;
  /** `SIGNER__…` overrides, as `docker run -e` passes them. */
  env?: Record<string, string>;
}

/** A Signer started from dist/ the way the container's entrypoint starts it, on an operator config. */
export interface DistSigner {
  url: string;
  /** The running service: pid, log lines, kill/pause for fault tests. */
  process: SignerProcess;
  /** The operator config (the image's /etc/signer/signer.yaml mount). */
  configPath: string;
  tenant: string;
  installation: string;
  /** A PoE the operator's Licensing (a loopback introspection server) accepts, owner-only. */
  poeFile: string;
  /** The scanner image digest whose release signature the config trusts. */
  scannerDigest: string;
  predicateTypes: readonly string[];
  /**
   * An OpTok from the operator's Authority (published at a loopback jwksUri), sender-constrained;
   * `claims` names another subject or scope (ceremony principals).
   */
  mintToken(
    binding: { jkt: string } | { x5tS256: string },
    claims?: { subject?: string; scope?: string },
  ): Promise<string>;
  /** SIGTERM (as `docker stop`), waits for the exit, closes the fakes, removes the material. */
  stop(): Promise<void>;
}

function writeSecret(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
}

/** Operator material and config: online Licensing, a remote JWKS, an OCI layout release, a file key. */
function operatorConfig(
  dir: string,
  port: number,
  authority: AuthorityEndpoint,
  licensing: FakeLicensingServer,
) {
  for (const sub of ['release', 'signing', 'audit']) mkdirSync(join(dir, sub), { mode: 0o700 });
  const release = writeDevRelease(dir);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeSecret(join(dir, 'signing/key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const config = {
    server: { host: '127.0.0.1', port },
    authority: {
      issuer: DEV_ISSUER,
      jwksUri: authority.jwksUri,
      audience: DEV_AUDIENCE,
      senderConstraint: 'dpop',
      dpop: { nonce: 'required' },
    },
    licensing: { introspectUrl: licensing.url },
    releaseIntegrity: {
      scannerRepository: DEFAULT_SCANNER_REPOSITORY,
      ociLayoutPath: join(dir, 'release/layout'),
      trustedKeysFiles: [join(dir, 'release/trusted-keys.pem')],
    },
    quotas: {
      store: 'memory',
      plans: { pro: { qps: 100, burst: 100, concurrency: 16, maxArtifactBytes: 1048576, dailyCap: 100000 } },
    },
    signing: { defaultMode: 'kms', keys: { operator: { ref: `file://${join(dir, 'signing/key.pem')}` } } },
    predicates: { allowed: DEV_PREDICATES },
    audit: { sink: 'file', filePath: join(dir, 'audit/audit.jsonl') },
  };
  const configPath = join(dir, 'signer.yaml');
  writeFileSync(configPath, stringify(config));
  return { configPath, scannerDigest: release.scannerDigest };
}

/**
 * Starts the built service exactly as the Dockerfile's ENTRYPOINT does — `node
 * --enable-source-maps main.js` in the bundle's folder (the image's WORKDIR /app), NODE_ENV and
 * SIGNER_CONFIG from its ENV — on an operator config that is not the embedded profile: a remote
 * Authority JWKS, online Licensing introspection, a trusted release key and its own signing key.
 * For the CLI's and the packed client's tests when no container engine is available.
 */
export async function startDistSigner(options: DistSignerOptions = {}): Promise<DistSigner> {
  const main = options.main ?? join(findWorkspaceRoot(), 'dist/apps/signer-api/main.js');
  if (!existsSync(main)) throw new Error(`no service bundle at ${main}: run \`npx nx run signer-api:build\``);
  const dir = mkdtempSync(join(tmpdir(), 'signer-dist-'));
  const authorityKeys = await DevAuthority.create('operator-authority-1');
  const authority = await AuthorityEndpoint.start();
  authority.jwks = authorityKeys.jwks();
  const licensing = await FakeLicensingServer.start();
  const port = await freePort();
  const { configPath, scannerDigest } = operatorConfig(dir, port, authority, licensing);
  const poeFile = join(dir, 'poe.jwt');
  writeSecret(
    poeFile,
    await licensing.issue({
      license_id: 'lic-operator-0001',
      tenant: DIST_TENANT,
      installation: DIST_INSTALLATION,
      plan: 'pro',
      valid_release_year: 2030,
      max_version: '1.99.99',
    }),
  );
  const closeFakes = async () => {
    await Promise.all([authority.close(), licensing.stop()]);
    rmSync(dir, { recursive: true, force: true });
  };
  // The image's ENV (NODE_ENV, SIGNER_CONFIG, SIGNER_HEALTH_URL) and nothing of this process's.
  const env = {
    NODE_ENV: 'production',
    SIGNER_CONFIG: configPath,
    SIGNER_HEALTH_URL: `http://127.0.0.1:${port}/healthz`,
    ...options.env,
  };
  let service: SignerProcess;
  try {
    // WORKDIR /app holds main.js: the bundle runs in its own folder, as in the image.
    service = await SignerProcess.start({ bundle: main, port, env, cwd: dirname(main) });
  } catch (error) {
    await closeFakes();
    throw error;
  }
  return {
    url: service.url,
    process: service,
    configPath,
    tenant: DIST_TENANT,
    installation: DIST_INSTALLATION,
    poeFile,
    scannerDigest,
    predicateTypes: DEV_PREDICATES,
    mintToken: (binding, claims = {}) =>
      authorityKeys.mint({ tenant: DIST_TENANT, installation: DIST_INSTALLATION, ...claims, ...binding }),
    stop: async () => {
      await service.stop();
      await closeFakes();
    },
  };
}
