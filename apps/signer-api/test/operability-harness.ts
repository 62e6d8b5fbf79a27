import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { DevAuthority, DevLicensing, generateEmbeddedProfile } from '@signer/dev';
import { loadConfig } from '../src/config/load-config';
import { createApp } from '../src/http/create-app';
import { createLogger } from '../src/observability/logger';
import { createRuntime } from '../src/wiring/create-runtime';
import { LogCapture, type Harness } from './harness';

export interface OperabilityOptions {
  /** `SIGNER__…` overrides applied to the embedded profile's config. */
  env?: NodeJS.ProcessEnv;
  spanExporter?: SpanExporter;
}

/** Like `startHarness`, with the runtime overrides the operability suites need (tracing exporter). */
export async function startOperabilityHarness(options: OperabilityOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'signer-ops-'));
  const profile = await generateEmbeddedProfile(dir);
  const runtime = await createRuntime(loadConfig(profile.configPath, options.env ?? {}), {
    spanExporter: options.spanExporter,
  });
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
      existsSync(auditFile)
        ? readFileSync(auditFile, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as Record<string, unknown>)
        : [],
    close: async () => {
      await app.close();
      await runtime.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Parsed log lines (every line the app wrote is JSON). */
export function logRecords(harness: Harness): Array<Record<string, unknown>> {
  return harness.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The sum of the Prometheus samples of `name` whose labels include `labels`; 0 when none. */
export function sample(metrics: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  let total = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).split(' ')[0];
    if (wanted.every((label) => labelText.includes(label))) total += Number(line.split(' ').pop());
  }
  return total;
}
