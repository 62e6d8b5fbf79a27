import { isRedirectStatus, readBoundedBody, UpstreamBodyTooLargeError } from '@signer/core';
import { KmsAnswerRefusedError } from '../kms/answer-refused';

/**
 * Largest answer read from Cloud KMS' REST surface or the token endpoints its credentials use: a
 * public key PEM, a signature or an access token is a few KiB at most (RSA-4096: ~2 KiB).
 */
export const GCP_MAX_ANSWER_BYTES = 256 * 1024;

/** Statuses whose Response may not carry a body. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

const originOf = (input: string | URL | Request): string =>
  new URL(typeof input === 'string' || input instanceof URL ? input : input.url).origin;

/**
 * The fetch the Cloud KMS client's auth transport (gaxios) uses, over REST and for its credentials'
 * token requests. Without it, gaxios uses node-fetch, which follows redirects and keeps the
 * `Authorization: Bearer` header when only the port differs or the target is a subdomain; it then
 * hands google-gax a body that is read whole. Here a 3xx is refused (never followed) and the body
 * is read with a running byte limit before the library sees it.
 */
const gcpGuardedFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, { ...init, redirect: 'manual' });
  if (isRedirectStatus(response.status)) {
    await response.body?.cancel().catch(() => undefined);
    throw new KmsAnswerRefusedError(
      'REDIRECT_NOT_FOLLOWED',
      `${originOf(input)} answered a redirect (HTTP ${response.status}), not followed`,
    );
  }
  let body: Buffer;
  try {
    body = await readBoundedBody(response, GCP_MAX_ANSWER_BYTES, `${originOf(input)} answer`);
  } catch (error) {
    if (!(error instanceof UpstreamBodyTooLargeError)) throw error;
    throw new KmsAnswerRefusedError(
      'ANSWER_TOO_LARGE',
      `${originOf(input)} answer is larger than ${GCP_MAX_ANSWER_BYTES} bytes`,
      { cause: error },
    );
  }
  // fetch has already decoded the body: its encoding and length headers no longer describe it.
  const headers = new Headers(response.headers);
  headers.delete('content-encoding');
  headers.delete('content-length');
  return new Response(NULL_BODY_STATUSES.has(response.status) ? null : body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
};

/** What every Cloud KMS client's auth client is built with (its `transporterOptions`); a fresh object each time. */
export const gcpTransporterOptions = () => ({ fetchImplementation: gcpGuardedFetch });
