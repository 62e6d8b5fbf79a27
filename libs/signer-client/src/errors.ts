/** Why a bundle did not verify. Closed set so callers (the CLI, tests) can branch on it. */
export type ClientVerificationErrorCode =
  'unsupported_key' | 'invalid_bundle' | 'key_mismatch' | 'verification_failed';

/** A verification refusal from this library, with the underlying error (if any) as `cause`. */
export class ClientVerificationError extends Error {
  readonly code: ClientVerificationErrorCode;

  constructor(code: ClientVerificationErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClientVerificationError';
    this.code = code;
  }
}
