import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DpopKey } from '@signer/client';
import type { DevAuthority, DevLicensing, EmbeddedProfile, OpTokClaims } from '@signer/dev';
import { ManualClock } from '@signer/testing';
import type { LightMyRequestResponse } from 'fastify';
import type { JSONWebKeySet } from 'jose';
import type { SignerRuntime } from '../src/wiring/create-runtime';
import { SIGN_PATH, startHarness, type Harness, type HarnessOptions, type LogCapture } from './harness';

export { SIGN_PATH };
export * from './authority-expect';
export * from './authority-http';

export interface AuthorityHarnessOptions extends Omit<HarnessOptions, 'clock'> {
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
 * `startHarness` with a clock the test moves (it runs with the real time, so tokens look real),
 * plus what an authentication test needs: tokens, PoEs of their own licence, raw DPoP requests.
 */
export class AuthorityHarness {
  private licenses = 0;
  /** Who mints the OpToks; a key-rotation test swaps in the Authority's next key. */
  public authority: DevAuthority;

  private constructor(
    private readonly harness: Harness,
    readonly clock: ManualClock,
    private readonly tokenDefaults: OpTokClaims,
  ) {
    this.authority = harness.authority;
  }

  static async start(options: AuthorityHarnessOptions = {}): Promise<AuthorityHarness> {
    const clock = new ManualClock();
    const harness = await startHarness({ ...options, clock });
    return new AuthorityHarness(harness, clock, options.tokenDefaults ?? {});
  }

  get dir(): string {
    return this.harness.dir;
  }
  get profile(): EmbeddedProfile {
    return this.harness.profile;
  }
  get runtime(): SignerRuntime {
    return this.harness.runtime;
  }
  get app(): NestFastifyApplication {
    return this.harness.app;
  }
  get licensing(): DevLicensing {
    return this.harness.licensing;
  }
  get logs(): LogCapture {
    return this.harness.logs;
  }

  close(): Promise<void> {
    return this.harness.close();
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
    return this.harness.auditLines();
  }

  signedCount(): number {
    return this.auditLines().filter((record) => record['outcome'] === 'signed').length;
  }
}
