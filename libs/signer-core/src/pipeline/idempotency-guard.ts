import { createHash } from 'node:crypto';
import { canonicalize } from '../canonical-json/canonical-json';
import { SignerError, type SignerErrorCode } from '../errors';
import type { SignDsseRequest, SignDsseResponse, VerifiedOpTok } from '../model';
import type {
  IdempotencyClaim,
  IdempotencyScope,
  IdempotencyStore,
  StoredOutcome,
} from '../ports/idempotency-store';

export const IDEMPOTENCY_WAIT_MS = 10_000;
const POLL_MS = 25;
const KEY = /^[\x21-\x7e]{1,128}$/;
/** Refusals a retry may cure: these release the key instead of being replayed. */
const RETRYABLE: ReadonlySet<SignerErrorCode> = new Set([
  'plan_throttled',
  'upstream_unavailable',
  'internal_error',
]);

export interface IdempotencyGuardOptions {
  /** Holds the records; its TTL, claim lease and byte budgets apply (see {@link IdempotencyStore}). */
  store: IdempotencyStore;
  waitMs?: number;
}

/** A claimed key: the request runs, then `succeed`/`fail` records or releases it. */
export interface IdempotencyTicket {
  succeed(response: SignDsseResponse): Promise<void>;
  fail(error: SignerError): Promise<void>;
}

export type IdempotencyDecision =
  { kind: 'run'; ticket: IdempotencyTicket } | { kind: 'replay'; outcome: StoredOutcome };

/**
 * `Idempotency-Key` (contract §2.1): scoped to tenant + caller; the same key and body replays the
 * first answer (bundle or final refusal); another body is `409 idempotency_conflict`; a concurrent
 * duplicate waits for the first instead of signing twice. A tenant whose records fill its byte
 * budget gets a retryable refusal for a new key rather than a record that evicts a recent one.
 */
export class IdempotencyGuard {
  private readonly waitMs: number;

  constructor(private readonly options: IdempotencyGuardOptions) {
    this.waitMs = options.waitMs ?? IDEMPOTENCY_WAIT_MS;
  }

  async enter(rawKey: string, token: VerifiedOpTok, request: SignDsseRequest): Promise<IdempotencyDecision> {
    if (!KEY.test(rawKey))
      throw new SignerError('invalid_request', 'Idempotency-Key: expected 1 to 128 visible ASCII characters');
    const scope = idempotencyScope(token, rawKey);
    const fingerprint = createHash('sha256').update(canonicalize(request)).digest('base64url');
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const claim = await this.options.store.claim(scope, fingerprint);
      if (claim.state === 'claimed')
        return { kind: 'run', ticket: this.ticket(scope, claim.claimId, fingerprint) };
      if (claim.state === 'full') throw budgetRefusal(claim);
      if (claim.fingerprint !== fingerprint) {
        throw new SignerError(
          'idempotency_conflict',
          'expected the body first sent with this Idempotency-Key, got another',
        );
      }
      if (claim.state === 'done') return { kind: 'replay', outcome: claim.outcome };
      if (Date.now() >= deadline) {
        throw new SignerError(
          'upstream_unavailable',
          'the first request with this Idempotency-Key is still running',
          { retryAfterSeconds: 1 },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  private ticket(scope: IdempotencyScope, claimId: string, fingerprint: string): IdempotencyTicket {
    const { store } = this.options;
    return {
      succeed: (response) => store.complete(scope, claimId, fingerprint, { kind: 'signed', response }),
      fail: async (error) => {
        if (RETRYABLE.has(error.code) || !error.auditId) return store.release(scope, claimId);
        const outcome: StoredOutcome = {
          kind: 'refused',
          code: error.code,
          message: error.message,
          auditId: error.auditId,
        };
        return store.complete(scope, claimId, fingerprint, outcome);
      },
    };
  }
}

/** The record a caller's key names: SHA-256 of tenant, subject, client and key; charged to the tenant. */
export function idempotencyScope(token: VerifiedOpTok, rawKey: string): IdempotencyScope {
  return {
    tenant: token.tenant,
    key: createHash('sha256')
      .update([token.tenant, token.subject, token.clientId ?? '', rawKey].join('\0'))
      .digest('base64url'),
  };
}

/**
 * No room for a new record. A tenant over its own budget is throttled like any plan limit (429);
 * an installation over its overall budget is a capacity problem of the service (503). Either way
 * nothing ran, and a retry after `Retry-After` may find room as older records age out.
 */
function budgetRefusal(claim: Extract<IdempotencyClaim, { state: 'full' }>): SignerError {
  const message = `idempotency records: expected at most ${claim.limitBytes} bytes ${
    claim.budget === 'tenant' ? 'for this tenant' : 'in all'
  }, no room for a new Idempotency-Key`;
  return claim.budget === 'tenant'
    ? new SignerError('plan_throttled', message, {
        limit: 'idempotency',
        retryAfterSeconds: claim.retryAfterSeconds,
      })
    : new SignerError('upstream_unavailable', message, { retryAfterSeconds: claim.retryAfterSeconds });
}

/** A stored refusal as the error the edge renders (same code, message and auditId as the first answer). */
export function replayedError(outcome: Extract<StoredOutcome, { kind: 'refused' }>): SignerError {
  return new SignerError(outcome.code, outcome.message, { auditId: outcome.auditId });
}
