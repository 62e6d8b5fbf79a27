import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { AuditSink, Clock } from '@signer/core';
import { DevAuthority, DevLicensing, generateEmbeddedProfile, type EmbeddedProfile } from '@signer/dev';
import { readJsonLines } from '@signer/testing';
import type { JWK } from 'jose';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadConfig } from '../src/config/load-config';
import { createApp } from '../src/http/create-app';
import { serverTls } from '../src/http/server-tls';
import { createLogger } from '../src/observability/logger';
import { createAuditSink } from '../src/wiring/audit';
import { createRuntime, type SignerRuntime } from '../src/wiring/create-runtime';

import { Caller } from './caller';

export { Caller, newCaller, postSign, SIGN_PATH, validBody } from './caller';

/** Collects every log line the app writes, so tests can grep them for secrets. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
}

/** The generated config file, parsed (YAML sections by name). */
export type RawConfig = Record<string, Record<string, unknown>>;

export interface Harness {
  /** The profile's folder (keys, audit trail); removed by `close()`. */
  dir: string;
  profile: EmbeddedProfile;
  runtime: SignerRuntime;
  app: NestFastifyApplication;
  authority: DevAuthority;
  licensing: DevLicensing;
  poe: string;
  logs: LogCapture;
  auditLines(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** `SIGNER__…` overrides applied when the config is loaded. */
  env?: NodeJS.ProcessEnv;
  /** Edits the generated config before the Signer loads it (drop a key, online Licensing, TLS). */
  configure?: (config: RawConfig, dir: string) => void;
  /** Listen on this loopback port (a real TLS handshake); otherwise `inject()` only. */
  port?: number;
  clock?: Clock;
  /** Wraps the real file audit sink (to observe or delay what reaches it). */
  audit?: (real: AuditSink) => AuditSink;
  /** Turns tracing on with this exporter. */
  spanExporter?: SpanExporter;
}

/** The dev Authority and Licensing holding a generated profile's private keys. */
export async function profileParties(
  profile: EmbeddedProfile,
): Promise<{ authority: DevAuthority; licensing: DevLicensing }> {
  const readJwk = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as JWK;
  return {
    authority: await DevAuthority.fromPrivateJwk(readJwk(profile.authorityPrivateJwkFile)),
    licensing: await DevLicensing.fromPrivateJwk(readJwk(profile.licensingPrivateJwkFile)),
  };
}

/**
 * The one in-process starter: a real Signer on a freshly generated embedded profile (every gate
 * on, file audit trail, memory quotas), served through Fastify `inject()`. The other harnesses are
 * option sets and helpers on top of it.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'signer-e2e-'));
  const profile = await generateEmbeddedProfile(dir, { port: options.port });
  if (options.configure) {
    const raw = parseYaml(readFileSync(profile.configPath, 'utf8')) as RawConfig;
    options.configure(raw, dir);
    writeFileSync(profile.configPath, stringifyYaml(raw));
  }
  const config = loadConfig(profile.configPath, options.env ?? {});
  const audit = options.audit?.(await createAuditSink(config));
  const runtime = await createRuntime(config, {
    clock: options.clock,
    audit,
    spanExporter: options.spanExporter,
  });
  const logs = new LogCapture();
  const app = await createApp(runtime, {
    logger: createLogger({ destination: logs }),
    https: serverTls(config),
  });
  if (options.port !== undefined) await app.listen({ host: '127.0.0.1', port: options.port });
  return {
    dir,
    profile,
    runtime,
    app,
    ...(await profileParties(profile)),
    poe: readFileSync(profile.poeFile, 'utf8'),
    logs,
    auditLines: () => readJsonLines(join(dir, 'audit/audit.jsonl')),
    close: async () => {
      await app.close();
      await runtime.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `startHarness` and a DPoP caller on it: what most suites start in `beforeAll`. */
export async function startWithCaller(
  options: HarnessOptions = {},
): Promise<{ harness: Harness; caller: Caller }> {
  const harness = await startHarness(options);
  return { harness, caller: await Caller.create(harness) };
}
