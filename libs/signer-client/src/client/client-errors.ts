import type { SignerProblem } from './wire-types';

/** The refusal codes of contract §2.4 (lifecycle and ceremony codes since 1.4). */
export const SIGNER_PROBLEM_CODES = [
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
  'key_not_active',
  'key_state_conflict',
  'ceremony_not_found',
  'ceremony_state_conflict',
  'ceremony_self_approval',
  'ceremony_duplicate_vote',
  'ceremony_threshold_not_met',
  'ceremony_expired',
] as const;

/**
 * A contract code, or `unexpected_response` when the answer was not a Signer problem (a proxy's
 * HTML error page, an unknown code, a 200 that is not JSON).
 */
export type SignerProblemCode = (typeof SIGNER_PROBLEM_CODES)[number] | 'unexpected_response';

const KNOWN_CODES: ReadonlySet<string> = new Set(SIGNER_PROBLEM_CODES);

export interface SignerProblemErrorInit {
  status: number;
  code: SignerProblemCode;
  detail: string;
  auditId?: string;
  retryAfterSeconds?: number;
  correlationId?: string;
  problem?: SignerProblem;
  /** Requests sent for the call that ended with this answer (retries and the nonce retry included). */
  attempts?: number;
  cause?: unknown;
}

/**
 * The Signer answered with a refusal (or something that is not a valid answer). The message is
 * built from the problem's `code`, `detail` and `auditId` only — never from the request, so it
 * cannot carry the OpTok, the DPoP proof or the PoE.
 */
export class SignerProblemError extends Error {
  readonly status: number;
  readonly code: SignerProblemCode;
  readonly detail: string;
  readonly auditId?: string;
  /** From `Retry-After` (429, 503), in seconds. */
  readonly retryAfterSeconds?: number;
  readonly correlationId?: string;
  /** The problem body as received, when there was one. */
  readonly problem?: SignerProblem;
  /** Requests sent for the call, retries included (set by {@link SignerClient}). */
  readonly attempts?: number;

  constructor(init: SignerProblemErrorInit) {
    super(
      `${init.code}: ${init.detail}${init.auditId ? ` (auditId ${init.auditId})` : ''}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = 'SignerProblemError';
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.auditId = init.auditId;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.correlationId = init.correlationId;
    this.problem = init.problem;
    this.attempts = init.attempts;
  }
}

export type SignerTransportErrorCode = 'timeout' | 'network_error';

/** No answer from the Signer: the request timed out or the connection failed. */
export class SignerTransportError extends Error {
  readonly code: SignerTransportErrorCode;

  constructor(code: SignerTransportErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SignerTransportError';
    this.code = code;
  }
}

export function toProblemCode(code: unknown): SignerProblemCode {
  return typeof code === 'string' && KNOWN_CODES.has(code)
    ? (code as SignerProblemCode)
    : 'unexpected_response';
}

/**
 * `Retry-After` as seconds: delta-seconds, or an HTTP-date relative to `now` (RFC 9110 §10.2.3).
 * Undefined when absent or unparseable.
 */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}
