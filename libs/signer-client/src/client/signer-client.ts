import { randomUUID } from 'node:crypto';
import type { DpopKey } from '../dpop/dpop-key';
import { exchange, problemOf, successBody, type HttpAnswer, type HttpRequest } from './http-transport';
import {
  DEFAULT_TIMEOUT_MS,
  fetchSignerKeys,
  normaliseBaseUrl,
  SIGN_DSSE_PATH,
  VERIFY_REFERRERS_PATH,
} from './public-endpoints';
import { retriesEnabled, sendWithRetries, type RetrySettings } from './retry-policy';
import type { ReleaseVerdict, SignDsseRequest, SignDsseResponse, SignerKeysResponse } from './wire-types';
import {
  CEREMONIES_PATH,
  type Ceremony,
  type CeremonyList,
  type CeremonyOperation,
  type CeremonyStatus,
} from './ceremony-wire-types';

// Re-exported from here too: callers imported them from this module before they moved.
export {
  DEFAULT_TIMEOUT_MS,
  fetchSignerKeys,
  KEYS_PATH,
  SIGN_DSSE_PATH,
  SIGNER_API_BASE_PATH,
  VERIFY_REFERRERS_PATH,
  type PublicEndpointOptions,
} from './public-endpoints';

export interface SignerClientOptions extends RetrySettings {
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
  /**
   * `Idempotency-Key` (1–128 visible ASCII): a retry with the same key and body returns the same
   * bundle. When retries are on and none is given, the client makes a random one per call.
   */
  idempotencyKey?: string;
  correlationId?: string;
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
 * in the next proof, and a `use_dpop_nonce` refusal is retried at once with the new nonce.
 * `429` and `503` are retried after `Retry-After` (or a jittered backoff) within a bounded budget
 * ({@link RetryOptions}); a sign call carries one `Idempotency-Key` across its attempts, so a retry
 * never signs twice. Refusals reject with `SignerProblemError`; no answer with `SignerTransportError`.
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
    const idempotencyKey = call.idempotencyKey ?? (retriesEnabled(this.options) ? randomUUID() : undefined);
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    if (call.correlationId !== undefined) headers['x-correlation-id'] = call.correlationId;
    return this.call<SignDsseResponse>({ method: 'POST', path: SIGN_DSSE_PATH, body: request, headers });
  }

  /** `GET /verify/referrers?digest=`: the release verdict for a scanner image, trusted or not. */
  verifyReferrers(digest: string): Promise<ReleaseVerdict> {
    return this.call<ReleaseVerdict>({ method: 'GET', path: VERIFY_REFERRERS_PATH, query: { digest } });
  }

  /** `POST /ceremonies` (scope signer.ceremony.initiate): starts a dual-control ceremony. */
  createCeremony(operation: CeremonyOperation): Promise<Ceremony> {
    return this.call<Ceremony>({ method: 'POST', path: CEREMONIES_PATH, body: { operation } });
  }

  /** `GET /ceremonies?status=&limit=`: newest first. */
  listCeremonies(query: { status?: CeremonyStatus; limit?: number } = {}): Promise<CeremonyList> {
    const params: Record<string, string> = {};
    if (query.status !== undefined) params['status'] = query.status;
    if (query.limit !== undefined) params['limit'] = String(query.limit);
    return this.call<CeremonyList>({ method: 'GET', path: CEREMONIES_PATH, query: params });
  }

  getCeremony(id: string): Promise<Ceremony> {
    return this.call<Ceremony>({ method: 'GET', path: `${CEREMONIES_PATH}/${encodeURIComponent(id)}` });
  }

  /** `POST /ceremonies/{id}/approve|reject|execute|cancel`; `reason` is required to reject. */
  ceremonyStep(
    id: string,
    step: 'approve' | 'reject' | 'execute' | 'cancel',
    reason?: string,
  ): Promise<Ceremony> {
    return this.call<Ceremony>({
      method: 'POST',
      path: `${CEREMONIES_PATH}/${encodeURIComponent(id)}/${step}`,
      body: step === 'reject' ? { reason } : undefined,
    });
  }

  /** `GET /keys`: public verification material (sent without credentials; none are needed). */
  keys(): Promise<SignerKeysResponse> {
    return fetchSignerKeys({ ...this.options, baseUrl: this.baseUrl, fetch: this.fetchImpl });
  }

  private async call<T>(input: CallInput): Promise<T> {
    const token =
      typeof this.options.accessToken === 'string'
        ? this.options.accessToken
        : await this.options.accessToken();
    const { answer, attempts } = await sendWithRetries(
      () => this.attempt(input, token),
      this.options,
      (challenge) => this.isNonceChallenge(challenge),
    );
    return successBody<T>(answer, { attempts });
  }

  private isNonceChallenge(answer: HttpAnswer): boolean {
    return (
      answer.status === 401 &&
      this.options.dpopKey !== undefined &&
      Boolean(answer.headers.get('dpop-nonce')) &&
      problemOf(answer)?.code === 'use_dpop_nonce'
    );
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
