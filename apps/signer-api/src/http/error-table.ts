import type { SignerErrorCode } from '@signer/core';

export interface ErrorEntry {
  status: number;
  title: string;
  /** Constant public explanation; never derived from secrets. */
  detail: string;
  /** Whether the refusal's own message (a field path or a limit) is safe and useful to show. */
  showMessage: boolean;
  /** What a caller should do (the error catalogue). */
  callerAction: string;
}

/** The one registry of refusal codes and their HTTP status (contract §2.4). */
export const ERROR_TABLE: Readonly<Record<SignerErrorCode, ErrorEntry>> = {
  invalid_request: {
    status: 400,
    title: 'Invalid request',
    detail: 'The request is malformed',
    showMessage: true,
    callerAction: 'Fix the request; do not retry unchanged.',
  },
  invalid_token: {
    status: 401,
    title: 'Invalid token',
    detail: 'The OpTok is missing, invalid or not sender-constrained',
    showMessage: false,
    callerAction: 'Obtain a fresh OpTok from the Authority bound to your DPoP key or client certificate.',
  },
  invalid_dpop_proof: {
    status: 401,
    title: 'Invalid DPoP proof',
    detail: 'The DPoP proof is missing or invalid for this request',
    showMessage: false,
    callerAction: 'Send a fresh proof for this method and URL, signed by the key in cnf.jkt.',
  },
  use_dpop_nonce: {
    status: 401,
    title: 'DPoP nonce required',
    detail: 'Resend with a proof carrying the nonce from the DPoP-Nonce header',
    showMessage: false,
    callerAction: 'Retry once with a new proof whose nonce is the DPoP-Nonce response header.',
  },
  insufficient_scope: {
    status: 403,
    title: 'Insufficient scope',
    detail: 'The OpTok lacks the scope this operation requires',
    showMessage: false,
    callerAction:
      'Request an OpTok with the scope the route names in WWW-Authenticate (signer.sign, signer.ceremony.initiate or signer.ceremony.approve).',
  },
  tenant_mismatch: {
    status: 403,
    title: 'Tenant mismatch',
    detail: 'The OpTok tenant or installation does not match the PoE',
    showMessage: false,
    callerAction: 'Use the PoE issued to your own tenant and installation.',
  },
  entitlement_denied: {
    status: 403,
    title: 'Entitlement denied',
    detail: 'The Proof-of-Entitlement does not allow this signing',
    showMessage: false,
    callerAction: 'Check the licence (active, not revoked, release window) with Licensing; do not retry.',
  },
  release_untrusted: {
    status: 403,
    title: 'Release untrusted',
    detail: 'The scanner image carries no valid trusted release signature',
    showMessage: false,
    callerAction: 'Use a genuine, signed scanner release; GET /verify/referrers shows the reason.',
  },
  idempotency_conflict: {
    status: 409,
    title: 'Idempotency conflict',
    detail: 'The Idempotency-Key was already used with a different request',
    showMessage: false,
    callerAction: 'Use a new Idempotency-Key for a different body.',
  },
  artifact_too_large: {
    status: 413,
    title: 'Artifact too large',
    detail: 'The statement or body exceeds the allowed size',
    showMessage: true,
    callerAction: 'Reduce the statement size below the plan limit.',
  },
  predicate_unsupported: {
    status: 422,
    title: 'Predicate unsupported',
    detail: 'The predicateType is not allowed here',
    showMessage: true,
    callerAction: 'Use one of the configured predicate types.',
  },
  plan_throttled: {
    status: 429,
    title: 'Plan throttled',
    detail: 'A plan limit was reached',
    showMessage: true,
    callerAction: 'Retry after the Retry-After header (seconds).',
  },
  upstream_unavailable: {
    status: 503,
    title: 'Upstream unavailable',
    detail: 'A dependency is unavailable; nothing was signed',
    showMessage: false,
    callerAction: 'Retry with backoff, honouring Retry-After when present.',
  },
  internal_error: {
    status: 500,
    title: 'Internal error',
    detail: 'The request could not be processed',
    showMessage: false,
    callerAction: 'Retry later; report the auditId if it persists.',
  },
  key_not_active: {
    status: 409,
    title: 'Key not active',
    detail:
      'The named signing key exists but may not sign now (pending, retired, revoked or outside its validity)',
    showMessage: true,
    callerAction: 'Name an active key (GET /keys shows each state) or omit keyId to use the default.',
  },
  key_state_conflict: {
    status: 409,
    title: 'Key state conflict',
    detail: 'The change is not allowed from the key or trust anchor state it would apply to',
    showMessage: true,
    callerAction: 'Read GET /keys; start a ceremony for a transition the lifecycle allows.',
  },
  ceremony_not_found: {
    status: 404,
    title: 'Ceremony not found',
    detail: 'No ceremony has this id',
    showMessage: false,
    callerAction: 'Check the ceremony id (GET /api/v1/signer/ceremonies lists them).',
  },
  ceremony_state_conflict: {
    status: 409,
    title: 'Ceremony state conflict',
    detail: 'The ceremony is not in a state that allows this step',
    showMessage: true,
    callerAction:
      'Read the ceremony; a decided, executed, cancelled or expired ceremony takes no further steps.',
  },
  ceremony_self_approval: {
    status: 403,
    title: 'Self-approval refused',
    detail: 'The initiator of a ceremony cannot approve or reject it',
    showMessage: false,
    callerAction: 'Ask another holder of signer.ceremony.approve to approve.',
  },
  ceremony_duplicate_vote: {
    status: 409,
    title: 'Duplicate vote',
    detail: 'This principal has already approved or rejected the ceremony',
    showMessage: false,
    callerAction: 'Each approver votes once; ask another approver.',
  },
  ceremony_threshold_not_met: {
    status: 409,
    title: 'Approval threshold not met',
    detail: 'The ceremony lacks the approvals its operation requires',
    showMessage: true,
    callerAction: 'Collect the missing approvals, then execute.',
  },
  ceremony_expired: {
    status: 410,
    title: 'Ceremony expired',
    detail: 'The ceremony passed its expiry before it was executed',
    showMessage: false,
    callerAction: 'Start a new ceremony.',
  },
};

/** A refusal the framework makes before (or instead of) a route: its contract code and HTTP status. */
export interface TransportRefusal {
  code: SignerErrorCode;
  status: number;
  /** The refusal's reason (logged; shown where the code's entry shows messages). */
  reason: string;
}

/**
 * The framework's own refusals (Fastify's body parsing, Nest's routing), the only statuses that
 * differ from the code's entry above (contract §2.4: 415 is `invalid_request` too).
 */
export const TRANSPORT_REFUSALS = {
  unsupportedMediaType: {
    code: 'invalid_request',
    status: 415,
    reason: 'content-type: expected application/json',
  },
  bodyTooLarge: {
    code: 'artifact_too_large',
    status: 413,
    reason: 'body: larger than server.bodyLimitBytes',
  },
  malformedBody: { code: 'invalid_request', status: 400, reason: 'body: expected a JSON object' },
  noRoute: { code: 'invalid_request', status: 404, reason: 'no such route' },
  methodNotAllowed: { code: 'invalid_request', status: 405, reason: 'method not allowed on this route' },
  otherClientError: { code: 'invalid_request', status: 400, reason: 'request refused' },
} as const satisfies Record<string, TransportRefusal>;
