import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DpopKey } from '@signer/client';
import {
  DevAuthority,
  DevLicensing,
  generateEmbeddedProfile,
  type EmbeddedProfile,
  type OpTokClaims,
} from '@signer/dev';
import type { LightMyRequestResponse } from 'fastify';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadConfig } from '../src/config/load-config';
import { createApp } from '../src/http/create-app';
import { createLogger } from '../src/observability/logger';
import { createRuntime, type SignerRuntime } from '../src/wiring/create-runtime';

export const SIGN_PATH = '/api/v1/signer/sign/dsse';

/** Collects every log line the app writes, so tests can grep them for secrets. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
}

export interface Harness {
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
  /** Edits the generated config file (parsed YAML) before the Signer loads it, e.g. to drop a key. */
  editConfig?: (config: Record<string, Record<string, unknown>>) => void;
}

/** A real Signer on a freshly generated embedded profile, served through Fastify `inject()`. */
export async function startHarness(
  env: NodeJS.ProcessEnv = {},
  options: HarnessOptions = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'signer-e2e-'));
  const profile = await generateEmbeddedProfile(dir);
  if (options.editConfig) {
    const config = parseYaml(readFileSync(profile.configPath, 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    options.editConfig(config);
    writeFileSync(profile.configPath, stringifyYaml(config));
  }
  const runtime = await createRuntime(loadConfig(profile.configPath, env));
  const logs = new LogCapture();
  const app = await createApp(runtime, { logger: createLogger({ destination: logs }) });
  const authority = await DevAuthority.fromPrivateJwk(
    JSON.parse(readFileSync(profile.authorityPrivateJwkFile, 'utf8')),
  );
  const auditFile = join(dir, 'audit/audit.jsonl');
  return {
    profile,
    runtime,
    app,
    authority,
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

export function validBody(
  harness: Harness,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    subject: [
      { name: 'registry.example/app@sha256:' + 'ab'.repeat(32), digest: { sha256: 'ab'.repeat(32) } },
    ],
    predicateType: 'https://stella-ops.org/attestations/sbom/1',
    predicate: { sbom: { format: 'cyclonedx', components: 3 } },
    scannerImageDigest: harness.profile.scannerImageDigest,
    poe: { format: 'jwt', value: harness.poe },
    ...overrides,
  };
}

/** A DPoP-bound caller that performs the nonce dance like a real client. */
export class Caller {
  private nonce?: string;

  private constructor(
    private readonly harness: Harness,
    readonly key: DpopKey,
    readonly token: string,
  ) {}

  static async create(harness: Harness, claims: OpTokClaims = {}): Promise<Caller> {
    const key = await DpopKey.generate();
    const token = await harness.authority.mint({
      tenant: harness.profile.tenant,
      installation: harness.profile.installation,
      jkt: key.thumbprint,
      ...claims,
    });
    return new Caller(harness, key, token);
  }

  async proof(
    method: string,
    path: string,
    overrides: { nonce?: string | null; iat?: number; jti?: string; url?: string } = {},
  ): Promise<string> {
    const nonce = overrides.nonce === null ? undefined : (overrides.nonce ?? this.nonce);
    return this.key.proof({
      method,
      url: overrides.url ?? `${this.harness.runtime.publicBaseUrl}${path}`,
      accessToken: this.token,
      nonce,
      iat: overrides.iat,
      jti: overrides.jti,
    });
  }

  /** Sends a request; on `use_dpop_nonce` retries once with the server's nonce. */
  async send(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> {
    const attempt = async () =>
      this.harness.app.inject({
        method,
        url: path,
        headers: {
          authorization: `DPoP ${this.token}`,
          dpop: await this.proof(method, path.split('?')[0]),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
    let response = await attempt();
    if (response.statusCode === 401 && response.json().code === 'use_dpop_nonce') {
      this.nonce = response.headers['dpop-nonce'] as string;
      response = await attempt();
    }
    return response;
  }

  sign(body: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.send('POST', SIGN_PATH, body, headers);
  }
}
