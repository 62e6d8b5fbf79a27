import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditSink, Clock } from '@signer/core';
import { DevAuthority, DevLicensing, generateEmbeddedProfile } from '@signer/dev';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../src/config/load-config';
import { createApp } from '../src/http/create-app';
import { createLogger } from '../src/observability/logger';
import { createAuditSink } from '../src/wiring/audit';
import { createRuntime } from '../src/wiring/create-runtime';
import { LogCapture, type Harness } from './harness';

type Yaml = Record<string, Record<string, unknown>>;

export interface CustomHarnessOptions {
  /** Edits the generated embedded config before it is loaded (e.g. online Licensing). */
  configure?: (config: Yaml) => void;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Wraps the real file audit sink (to observe or delay what reaches it). */
  audit?: (real: AuditSink) => AuditSink;
}

/** `licensing` settings of an online deployment (contract §4). */
export interface OnlineLicensingSettings {
  cacheTtlSeconds?: number;
  negativeCacheTtlSeconds?: number;
  timeoutMs?: number;
}

/** A config edit: PoEs are introspected at `introspectUrl` (the offline JWKS removed). */
export function onlineLicensing(
  introspectUrl: string,
  settings: OnlineLicensingSettings = {},
): (config: Yaml) => void {
  return (config) => {
    delete config['licensing']['offlineJwksFile'];
    Object.assign(config['licensing'], { introspectUrl, ...settings });
  };
}

/** A clock that runs with real time plus an offset the test moves (cache TTLs, Retry-After). */
export class OffsetClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advanceSeconds(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
  set(iso: string): void {
    this.offsetMs = Date.parse(iso) - Date.now();
  }
  reset(): void {
    this.offsetMs = 0;
  }
}

/**
 * Like `startHarness`, on a freshly generated embedded profile whose config the test may edit,
 * with an injectable clock and audit wrapper. The result works with `Caller` and `validBody`.
 */
export async function startCustomHarness(options: CustomHarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'signer-e2e-q-'));
  const profile = await generateEmbeddedProfile(dir);
  const yaml = parse(readFileSync(profile.configPath, 'utf8')) as Yaml;
  options.configure?.(yaml);
  writeFileSync(profile.configPath, stringify(yaml));
  const config = loadConfig(profile.configPath, options.env ?? {});
  const audit = options.audit ? options.audit(await createAuditSink(config)) : undefined;
  const runtime = await createRuntime(config, { clock: options.clock, audit });
  const logs = new LogCapture();
  const app = await createApp(runtime, { logger: createLogger({ destination: logs }) });
  const auditFile = join(dir, 'audit/audit.jsonl');
  return {
    profile,
    runtime,
    app,
    authority: await DevAuthority.fromPrivateJwk(
      JSON.parse(readFileSync(profile.authorityPrivateJwkFile, 'utf8')),
    ),
    licensing: await DevLicensing.fromPrivateJwk(
      JSON.parse(readFileSync(profile.licensingPrivateJwkFile, 'utf8')),
    ),
    poe: readFileSync(profile.poeFile, 'utf8'),
    logs,
    auditLines: () =>
      readFileSync(auditFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    close: async () => {
      await app.close();
      await runtime.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
