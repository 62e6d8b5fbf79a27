import { DpopKey } from '@signer/client';
import type { DevAuthority, EmbeddedProfile, OpTokClaims } from '@signer/dev';
import type { LightMyRequestResponse } from 'fastify';
import type { Harness } from './harness';

export const SIGN_PATH = '/api/v1/signer/sign/dsse';

export function validBody(
  harness: Pick<Harness, 'profile' | 'poe'>,
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

/** A fresh DPoP key and an OpTok bound to it, for the profile's tenant. */
export async function newCaller(
  authority: DevAuthority,
  profile: Pick<EmbeddedProfile, 'tenant' | 'installation'>,
  claims: OpTokClaims = {},
): Promise<{ key: DpopKey; token: string }> {
  const key = await DpopKey.generate();
  const token = await authority.mint({
    tenant: profile.tenant,
    installation: profile.installation,
    jkt: key.thumbprint,
    ...claims,
  });
  return { key, token };
}

/**
 * POSTs one signing request to a Signer process (the built service) with a fresh DPoP proof; no
 * nonce dance (for profiles whose nonces are optional).
 */
export async function postSign(
  baseUrl: string,
  caller: { key: DpopKey; token: string },
  body: Record<string, unknown>,
): Promise<Response> {
  const url = `${baseUrl}${SIGN_PATH}`;
  return fetch(url, {
    method: 'POST',
    headers: {
      authorization: `DPoP ${caller.token}`,
      dpop: await caller.key.proof({ method: 'POST', url, accessToken: caller.token }),
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
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
    const { key, token } = await newCaller(harness.authority, harness.profile, claims);
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
