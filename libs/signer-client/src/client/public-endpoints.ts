import { SignerProblemError } from './client-errors';
import { exchange, successBody } from './http-transport';
import { sendWithRetries, type RetrySettings } from './retry-policy';
import type { SignerKeysResponse } from './wire-types';

export const DEFAULT_TIMEOUT_MS = 10_000;
export const SIGNER_API_BASE_PATH = '/api/v1/signer';
export const SIGN_DSSE_PATH = `${SIGNER_API_BASE_PATH}/sign/dsse`;
export const VERIFY_REFERRERS_PATH = `${SIGNER_API_BASE_PATH}/verify/referrers`;
export const KEYS_PATH = `${SIGNER_API_BASE_PATH}/keys`;

export interface PublicEndpointOptions extends RetrySettings {
  baseUrl: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** `GET /api/v1/signer/keys` without a client: the keys need no credentials (contract §2.3). */
export async function fetchSignerKeys(options: PublicEndpointOptions): Promise<SignerKeysResponse> {
  const url = `${normaliseBaseUrl(options.baseUrl)}${KEYS_PATH}`;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const { answer, attempts } = await sendWithRetries(
    () =>
      exchange(
        fetchImpl,
        { method: 'GET', url, headers: { accept: 'application/json' } },
        options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ),
    options,
  );
  const body = successBody<SignerKeysResponse>(answer, { attempts });
  if (!Array.isArray(body.keys)) {
    throw new SignerProblemError({
      status: answer.status,
      code: 'unexpected_response',
      detail: 'GET /keys: expected a keys array',
      attempts,
    });
  }
  return body;
}

/** Scheme, host, port and path prefix, without a trailing slash: the base of every `htu`. */
export function normaliseBaseUrl(baseUrl: string): string {
  const parsed = new URL(baseUrl);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`baseUrl: expected an http(s) URL, got ${parsed.protocol}`);
  }
  if (parsed.search || parsed.hash) throw new TypeError('baseUrl: expected no query or fragment');
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}
