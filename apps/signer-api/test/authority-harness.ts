import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Clock } from '@signer/core';
import { DpopKey } from '@signer/client';
import {
  DevAuthority,
  DevLicensing,
  generateEmbeddedProfile,
  type EmbeddedProfile,
  type OpTokClaims,
} from '@signer/dev';
import type { LightMyRequestResponse } from 'fastify';
import type { JSONWebKeySet, JWK } from 'jose';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../src/config/load-config';
import { createApp } from '../src/http/create-app';
import { serverTls } from '../src/http/server-tls';
import { createLogger } from '../src/observability/logger';
import { createRuntime, type SignerRuntime } from '../src/wiring/create-runtime';
import { LogCapture, SIGN_PATH } from './harness';

export { SIGN_PATH };
export * from './authority-expect';
export * from './authority-http';

/** A clock the test moves (nonce expiry, key refresh); starts at the real time so tokens look real. */
export class TestClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
  seconds(): number {
    return Math.floor(this.now().getTime() / 1000);
  }
}

export type RawConfig = Record<string, Record<string, unknown>>;

export interface AuthorityHarnessOptions {
  /** Edits the generated YAML before the Signer loads it (key source, TLS, sender constraint). */
  configure?: (raw: RawConfig, dir: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Listen on this loopback port (needed for a real TLS handshake); otherwise `inject()` only. */
  port?: number;
  /** Claims every minted OpTok carries unless a test overrides them (e.g. a remote issuer). */
  tokenDefaults?: OpTokClaims;
}

/**
 * Options for a Signer that finds the Authority's keys by OIDC discovery on `issuer` (the generated
 * `jwksFile` removed) and tokens minted for that issuer; `onJwks` receives the generated key set,
 * for the endpoint that serves it.
 */
export function discoveryOptions(
  issuer: string,
  onJwks: (jwks: JSONWebKeySet) => void = () => undefined,
): AuthorityHarnessOptions {
  return {
    tokenDefaults: { issuer },
    configure: (raw, dir) => {
      onJwks(JSON.parse(readFileSync(join(dir, 'authority/jwks.json'), 'utf8')) as JSONWebKeySet);
      const { jwksFile: _file, ...authority } = raw['authority'];
      raw['authority'] = { ...authority, issuer };
    },
  };
}

/** Plan limits that leave room for exactly `signatures` signatures: a consumed unit shows at once. */
export const tinyLimits = (signatures = 1) => ({
  qps: 0.001,
  burst: signatures,
  concurrency: 1,
  dailyCap: signatures,
});

/**
 * A real Signer on a fresh embedded profile (every gate on, file audit trail, memory quotas) with a
 * test clock, plus what a caller needs: the dev Authority and Licensing keys and a nonce dance.
 */
export class AuthorityHarness {
  private licenses = 0;

  private constructor(
    readonly dir: string,
    readonly profile: EmbeddedProfile,
    readonly runtime: SignerRuntime,
    readonly app: NestFastifyApplication,
    readonly clock: TestClock,
    /** Who mints the OpToks; a key-rotation test swaps in the Authority's next key. */
    public authority: DevAuthority,
    readonly licensing: DevLicensing,
    readonly logs: LogCapture,
    private readonly tokenDefaults: OpTokClaims,
  ) {}

  static async start(options: AuthorityHarnessOptions = {}): Promise<AuthorityHarness> {
    const dir = mkdtempSync(join(tmpdir(), 'signer-authority-'));
    const profile = await generateEmbeddedProfile(dir, { port: options.port ?? 8080 });
    const raw = parse(readFileSync(profile.configPath, 'utf8')) as RawConfig;
    options.configure?.(raw, dir);
    writeFileSync(profile.configPath, stringify(raw));
    const config = loadConfig(profile.configPath, options.env ?? {});
    const clock = new TestClock();
    const runtime = await createRuntime(config, { clock });
    const logs = new LogCapture();
    const app = await createApp(runtime, {
      logger: createLogger({ destination: logs }),
      https: serverTls(config),
    });
    if (options.port !== undefined) await app.listen({ host: '127.0.0.1', port: options.port });
    const readJwk = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as JWK;
    return new AuthorityHarness(
      dir,
      profile,
      runtime,
      app,
      clock,
      await DevAuthority.fromPrivateJwk(readJwk(profile.authorityPrivateJwkFile)),
      await DevLicensing.fromPrivateJwk(readJwk(profile.licensingPrivateJwkFile)),
      logs,
      options.tokenDefaults ?? {},
    );
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.runtime.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  get signUrl(): string {
    return `${this.runtime.publicBaseUrl}${SIGN_PATH}`;
  }

  /** An OpTok from the dev Authority for the profile's tenant, issued now (test clock). */
  mint(claims: OpTokClaims = {}): Promise<string> {
    return this.authority.mint({
      tenant: this.profile.tenant,
      installation: this.profile.installation,
      now: this.clock.seconds(),
      ...this.tokenDefaults,
      ...claims,
    });
  }

  /** A PoE of its own licence, so what one test consumes is visible and no other test shares it. */
  poe(limits: Record<string, number> = tinyLimits()): Promise<string> {
    this.licenses += 1;
    return this.licensing.mintPoe({
      tenant: this.profile.tenant,
      installation: this.profile.installation,
      license_id: `lic-authority-${this.licenses}-${Date.now()}`,
      limits,
    });
  }

  body(poe: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      subject: [{ name: 'registry.example/app', digest: { sha256: 'cd'.repeat(32) } }],
      predicateType: 'https://stella-ops.org/attestations/sbom/1',
      predicate: { sbom: { components: 1 } },
      scannerImageDigest: this.profile.scannerImageDigest,
      poe: { format: 'jwt', value: poe },
      ...overrides,
    };
  }

  /** `POST /sign/dsse` through inject() with exactly these headers. */
  post(body: unknown, headers: Record<string, string>, path = SIGN_PATH): Promise<LightMyRequestResponse> {
    return this.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/json', ...headers },
      payload: JSON.stringify(body),
    });
  }

  /** A current server nonce, obtained the way a client does: a first request answered use_dpop_nonce. */
  async nonce(): Promise<string> {
    const key = await DpopKey.generate();
    const token = await this.mint({ jkt: key.thumbprint });
    const response = await this.post(this.body('no-poe-needed'), {
      authorization: `DPoP ${token}`,
      dpop: await this.proof(key, token),
    });
    const nonce = response.headers['dpop-nonce'];
    if (typeof nonce !== 'string')
      throw new Error(`expected a DPoP-Nonce, got status ${response.statusCode}`);
    return nonce;
  }

  proof(
    key: DpopKey,
    token: string | undefined,
    overrides: { method?: string; url?: string; nonce?: string; iat?: number; jti?: string } = {},
  ): Promise<string> {
    return key.proof({
      method: overrides.method ?? 'POST',
      url: overrides.url ?? this.signUrl,
      accessToken: token,
      nonce: overrides.nonce,
      iat: overrides.iat ?? this.clock.seconds(),
      jti: overrides.jti,
    });
  }

  /** A well-behaved DPoP caller signing with this PoE (the follow-up that proves nothing was consumed). */
  async signAsValidCaller(poe: string): Promise<LightMyRequestResponse> {
    const key = await DpopKey.generate();
    const token = await this.mint({ jkt: key.thumbprint });
    const nonce = await this.nonce();
    return this.post(this.body(poe), {
      authorization: `DPoP ${token}`,
      dpop: await this.proof(key, token, { nonce }),
    });
  }

  auditLines(): Array<Record<string, unknown>> {
    return readFileSync(join(this.dir, 'audit/audit.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  signedCount(): number {
    return this.auditLines().filter((record) => record['outcome'] === 'signed').length;
  }
}
