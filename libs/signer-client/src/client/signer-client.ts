import type { DpopKey } from '../dpop/dpop-key';
import { SignerProblemError } from './client-errors';
import { exchange, problemOf, successBody, type HttpAnswer, type HttpRequest } from './http-transport';
import type { ReleaseVerdict, SignDsseRequest, SignDsseResponse, SignerKeysResponse } from './wire-types';

export const DEFAULT_TIMEOUT_MS = 10_000;
export const SIGNER_API_BASE_PATH = '/api/v1/signer';
export const SIGN_DSSE_PATH = `${SIGNER_API_BASE_PATH}/sign/dsse`;
export const VERIFY_REFERRERS_PATH = `${SIGNER_API_BASE_PATH}/verify/referrers`;
export const KEYS_PATH = `${SIGNER_API_BASE_PATH}/keys`;

export interface SignerClientOptions {
  /** Scheme, host, port (and any path prefix) as the Signer's `server.publicBaseUrl` names it. */
  baseUrl: string;
  /** The OpTok, or a function asked once per call (so a caller can refresh short-lived tokens). */
  accessToken: string | (() => Promise<string>);
  /** The key the OpTok is bound to (`cnf.jkt`); without it the token is sent as `Bearer` (mTLS). */
  dpopKey?: DpopKey;
  fetch?: typeof fetch;
  /** Per HTTP exchange, body read included. Defaults to {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
}

export interface SignDsseCallOptions {
  /** `Idempotency-Key` (≤ 128 chars): a retry with the same key and body returns the same bundle. */
  idempotencyKey?: string;
  correlationId?: string;
}

export interface PublicEndpointOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

interface CallInput {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * A typed caller of the Signer API (contract §2, §3). Each request carries the OpTok and a fresh
 * DPoP proof for its method and URL; the last `DPoP-Nonce` the server sent is remembered and put
 * in the next proof, and a `use_dpop_nonce` refusal is retried exactly once with the new nonce.
 * Refusals reject with `SignerProblemError`; no answer rejects with `SignerTransportError`.
 */
export class SignerClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private nonce?: string;

  constructor(private readonly options: SignerClientOptions) {
    this.baseUrl = normaliseBaseUrl(options.baseUrl);
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** `POST /sign/dsse`. */
  signDsse(request: SignDsseRequest, call: SignDsseCallOptions = {}): Promise<SignDsseResponse> {
    const headers: Record<string, string> = {};
    if (call.idempotencyKey !== undefined) headers['idempotency-key'] = call.idempotencyKey;
    if (call.correlationId !== undefined) headers['x-correlation-id'] = call.correlationId;
    return this.call<SignDsseResponse>({ method: 'POST', path: SIGN_DSSE_PATH, body: request, headers });
  }

  /** `GET /verify/referrers?digest=`: the release verdict for a scanner image, trusted or not. */
  verifyReferrers(digest: string): Promise<ReleaseVerdict> {
    return this.call<ReleaseVerdict>({ method: 'GET', path: VERIFY_REFERRERS_PATH, query: { digest } });
  }

  /** `GET /keys`: public verification material (sent without credentials; none are needed). */
  keys(): Promise<SignerKeysResponse> {
    return fetchSignerKeys({ baseUrl: this.baseUrl, fetch: this.fetchImpl, timeoutMs: this.timeoutMs });
  }

  private async call<T>(input: CallInput): Promise<T> {
    const token =
      typeof this.options.accessToken === 'string'
        ? this.options.accessToken
        : await this.options.accessToken();
    let answer = await this.attempt(input, token);
    const challenge = answer.status === 401 ? problemOf(answer) : undefined;
    if (challenge?.code === 'use_dpop_nonce' && this.options.dpopKey && answer.headers.get('dpop-nonce')) {
      answer = await this.attempt(input, token);
    }
    return successBody<T>(answer);
  }

  private async attempt(input: CallInput, token: string): Promise<HttpAnswer> {
    const htu = `${this.baseUrl}${input.path}`;
    const query = input.query ? `?${new URLSearchParams(input.query).toString()}` : '';
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      ...input.headers,
    };
    const key = this.options.dpopKey;
    if (key) {
      headers['authorization'] = `DPoP ${token}`;
      headers['dpop'] = await key.proof({
        method: input.method,
        url: htu,
        accessToken: token,
        nonce: this.nonce,
      });
    } else {
      headers['authorization'] = `Bearer ${token}`;
    }
    const request: HttpRequest = { method: input.method, url: `${htu}${query}`, headers };
    if (input.body !== undefined) {
      headers['content-type'] = 'application/json';
      request.body = JSON.stringify(input.body);
    }
    const answer = await exchange(this.fetchImpl, request, this.timeoutMs);
    const nonce = answer.headers.get('dpop-nonce');
    if (nonce) this.nonce = nonce;
    return answer;
  }
}

/** `GET /api/v1/signer/keys` without a client: the keys need no credentials (contract §2.3). */
export async function fetchSignerKeys(options: PublicEndpointOptions): Promise<SignerKeysResponse> {
  const url = `${normaliseBaseUrl(options.baseUrl)}${KEYS_PATH}`;
  const answer = await exchange(
    options.fetch ?? globalThis.fetch,
    { method: 'GET', url, headers: { accept: 'application/json' } },
    options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  );
  const body = successBody<SignerKeysResponse>(answer);
  if (!Array.isArray(body.keys)) {
    throw new SignerProblemError({
      status: answer.status,
      code: 'unexpected_response',
      detail: 'GET /keys: expected a keys array',
    });
  }
  return body;
}

function normaliseBaseUrl(baseUrl: string): string {
  const parsed = new URL(baseUrl);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`baseUrl: expected an http(s) URL, got ${parsed.protocol}`);
  }
  if (parsed.search || parsed.hash) throw new TypeError('baseUrl: expected no query or fragment');
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}
