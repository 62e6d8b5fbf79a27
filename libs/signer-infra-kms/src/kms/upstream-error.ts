import { SignerError, type Upstream } from '@signer/core';
import { DeadlineExceededError } from './retry-within-deadline';

/** Seconds a caller is told to wait after a transient KMS/Fulcio failure outlived the deadline. */
export const TRANSIENT_RETRY_AFTER_SECONDS = 1;

/**
 * Maps a failed remote signing call to the contract: a refusal already decided (`plan_throttled`
 * from the pacer) passes through; transient failures that outlived the deadline are
 * `upstream_unavailable` with `Retry-After`; anything else the service refused (access denied,
 * disabled key, bad request) is `upstream_unavailable` without one — retrying will not help until
 * an operator acts. The message names the key, never key material or tokens.
 */
export function toUpstreamError(
  upstream: Upstream,
  what: string,
  error: unknown,
  name: (e: unknown) => string,
): SignerError {
  if (error instanceof SignerError) return error;
  if (error instanceof DeadlineExceededError) {
    return new SignerError(
      'upstream_unavailable',
      `${what}: ${name(error.cause)} until the deadline (${error.attempts} attempts)`,
      {
        cause: error,
        upstream,
        retryAfterSeconds: TRANSIENT_RETRY_AFTER_SECONDS,
      },
    );
  }
  return new SignerError('upstream_unavailable', `${what}: refused (${name(error)})`, {
    cause: error,
    upstream,
  });
}
