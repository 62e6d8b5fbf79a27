import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTlsFetch, DpopKey } from '@signer/client';
import { DevAuthority, generateEmbeddedProfile, type EmbeddedProfile } from '@signer/dev';
import { freePort } from '@signer/testing';
import { parse, stringify } from 'yaml';
import { startBuiltSigner, startBuiltTlsSigner } from './built-apps';

/** What an operator hands a calling team: files, never the Signer's own profile. */
export interface CallerFiles {
  tokenFile: string;
  dpopKeyFile: string;
  poeFile: string;
  scannerDigest: string;
  dpopKey: DpopKey;
}

export interface Deployment {
  url: string;
  /** Where the service's material lives (its keys, its audit trail). */
  dir: string;
  profile: EmbeddedProfile;
  caller: CallerFiles;
  /** A fresh OpTok from the deployment's Authority, for `binding`. */
  token(binding: { jkt: string } | { x5tS256: string }): Promise<string>;
  close(): Promise<void>;
}

type RawConfig = Record<string, Record<string, unknown>>;

/**
 * The built service with a deployment's config rather than the dev profile's: an explicit
 * publicBaseUrl, quotas in the shared Redis under a private prefix, its own audit file. The key
 * material is generated with the dev tools (the real Authority and Licensing are not in this
 * repository); the caller gets only files. `tls` turns the listener into https.
 */
export async function startDeployment(tls?: {
  /** Adds `server.tls` (files relative to `dir`). */
  edit(raw: RawConfig, dir: string): void;
  ca: string;
}): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), 'signer-e2e-service-'));
  const work = mkdtempSync(join(tmpdir(), 'signer-e2e-caller-'));
  const port = await freePort();
  const profile = await generateEmbeddedProfile(dir, { port });
  const raw = parse(readFileSync(profile.configPath, 'utf8')) as RawConfig;
  const scheme = tls ? 'https' : 'http';
  raw['server'] = { ...raw['server'], port, publicBaseUrl: `${scheme}://127.0.0.1:${port}` };
  raw['quotas'] = {
    ...raw['quotas'],
    store: 'redis',
    redisUrl: 'redis://127.0.0.1:6379',
    redisKeyPrefix: `e2e-${randomUUID().slice(0, 8)}:`,
  };
  raw['audit'] = { sink: 'file', filePath: 'trail/audit.jsonl' };
  tls?.edit(raw, dir);
  const configPath = join(dir, 'deployment.yaml');
  writeFileSync(configPath, stringify(raw));

  const authority = await DevAuthority.fromPrivateJwk(
    JSON.parse(readFileSync(profile.authorityPrivateJwkFile, 'utf8')),
  );
  const token = (binding: { jkt: string } | { x5tS256: string }) =>
    authority.mint({ tenant: profile.tenant, installation: profile.installation, ...binding });
  const dpopKey = await DpopKey.generate();
  const caller: CallerFiles = {
    tokenFile: join(work, 'optok.jwt'),
    dpopKeyFile: join(work, 'dpop.jwk.json'),
    poeFile: join(work, 'poe.jwt'),
    scannerDigest: profile.scannerImageDigest,
    dpopKey,
  };
  writeFileSync(caller.tokenFile, await token({ jkt: dpopKey.thumbprint }), { mode: 0o600 });
  writeFileSync(caller.dpopKeyFile, JSON.stringify(await dpopKey.toPrivateJwk()), { mode: 0o600 });
  writeFileSync(caller.poeFile, readFileSync(profile.poeFile), { mode: 0o600 });

  let signer: { stop(): Promise<void> };
  try {
    signer = tls
      ? await startBuiltTlsSigner(configPath, port, createTlsFetch({ ca: tls.ca }))
      : await startBuiltSigner(configPath, port);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    dir,
    profile,
    caller,
    token,
    close: async () => {
      await signer.stop();
      rmSync(dir, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** The deployment's audit records, as the service wrote them. */
export function auditRecords(deployment: Deployment): Array<Record<string, unknown>> {
  return readFileSync(join(deployment.dir, 'trail/audit.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
