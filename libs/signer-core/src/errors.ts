/**
 * The closed set of refusal codes of the Signer contract (§2.4). Every failure anywhere in the
 * pipeline is a {@link SignerError} carrying one of these codes; HTTP status mapping happens once,
 * at the edge.
 */
export const SIGNER_ERROR_CODES = [
  'invalid_request',
  'invalid_token',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'insufficient_scope',
  'tenant_mismatch',
  'entitlement_denied',
  'release_untrusted',
  'idempotency_conflict',
  'artifact_too_large',
  'predicate_unsupported',
  'plan_throttled',
  'upstream_unavailable',
  'internal_error',
  // Key lifecycle and dual-control ceremonies (contract §11, since 1.4).
  'key_not_active',
  'key_state_conflict',
  'ceremony_not_found',
  'ceremony_state_conflict',
  'ceremony_self_approval',
  'ceremony_duplicate_vote',
  'ceremony_threshold_not_met',
  'ceremony_expired',
] as const;

export type SignerErrorCode = (typeof SIGNER_ERROR_CODES)[number];

/** Names an upstream dependency, for `upstream_unavailable` and the `signer_upstream_errors_total` metric. */
export type Upstream =
  'licensing' | 'registry' | 'redis' | 'kms' | 'fulcio' | 'audit' | 'authority' | 'state';

export interface SignerErrorOptions {
  cause?: unknown;
  /** Seconds a caller should wait before retrying (`Retry-After`). */
  retryAfterSeconds?: number;
  /** A fresh DPoP nonce to hand to the caller (`use_dpop_nonce`). */
  dpopNonce?: string;
  /** The dependency that failed, for `upstream_unavailable`. */
  upstream?: Upstream;
  /** For `plan_throttled`: which limit refused (qps, concurrency, daily). */
  limit?: string;
  /** The audit record of the decision this refusal answers (set by {@link SignerError.forDecision}). */
  auditId?: string;
  /** Why that record could not be written, when it could not. */
  auditFailure?: unknown;
}

/**
 * A refusal with a stable contract code. `message` is for operators' logs and must never contain
 * a token, a PoE value or key material; the public problem detail is derived from it at the edge.
 */
export class SignerError extends Error {
  readonly code: SignerErrorCode;
  readonly retryAfterSeconds?: number;
  readonly dpopNonce?: string;
  readonly upstream?: Upstream;
  readonly limit?: string;
  /** The audit record of the one decision this refusal answers: the id the problem response reports. */
  readonly auditId?: string;
  /** Set when that record could not be written: the refusal stands, and the edge logs and counts it. */
  readonly auditFailure?: unknown;

  constructor(code: SignerErrorCode, message: string, options: SignerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SignerError';
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.dpopNonce = options.dpopNonce;
    this.upstream = options.upstream;
    this.limit = options.limit;
    this.auditId = options.auditId;
    this.auditFailure = options.auditFailure;
  }

  /**
   * This refusal as the answer to one decision: a new error carrying that decision's audit id.
   * Never mutates this one, which every request that waited on the same upstream call may share.
   */
  forDecision(auditId: string, auditFailure?: unknown): SignerError {
    return new SignerError(this.code, this.message, {
      cause: this.cause,
      retryAfterSeconds: this.retryAfterSeconds,
      dpopNonce: this.dpopNonce,
      upstream: this.upstream,
      limit: this.limit,
      auditId,
      auditFailure,
    });
  }
}

function isSignerError(value: unknown): value is SignerError {
  return value instanceof SignerError;
}

/** Any thrown value as a SignerError; unknown failures become `internal_error` with the original as cause. */
export function toSignerError(value: unknown): SignerError {
  if (isSignerError(value)) return value;
  return new SignerError('internal_error', 'unexpected failure', { cause: value });
}
