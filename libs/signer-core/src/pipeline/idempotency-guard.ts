import { createHash } from 'node:crypto';
import { canonicalize } from '../canonical-json/canonical-json';
import { SignerError, type SignerErrorCode } from '../errors';
import type { SignDsseRequest, SignDsseResponse, VerifiedOpTok } from '../model';
import type { IdempotencyStore, StoredOutcome } from '../ports/idempotency-store';

export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
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
  store: IdempotencyStore;
  ttlSeconds?: number;
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
 * duplicate waits for the first instead of signing twice.
 */
export class IdempotencyGuard {
  private readonly ttlSeconds: number;
  private readonly waitMs: number;

  constructor(private readonly options: IdempotencyGuardOptions) {
    this.ttlSeconds = options.ttlSeconds ?? IDEMPOTENCY_TTL_SECONDS;
    this.waitMs = options.waitMs ?? IDEMPOTENCY_WAIT_MS;
  }

  async enter(rawKey: string, token: VerifiedOpTok, request: SignDsseRequest): Promise<IdempotencyDecision> {
    if (!KEY.test(rawKey))
      throw new SignerError('invalid_request', 'Idempotency-Key: expected 1 to 128 visible ASCII characters');
    const key = createHash('sha256')
      .update([token.tenant, token.subject, token.clientId ?? '', rawKey].join('\0'))
      .digest('base64url');
    const fingerprint = createHash('sha256').update(canonicalize(request)).digest('base64url');
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const claim = await this.options.store.claim(key, fingerprint, this.ttlSeconds);
      if (claim.state === 'claimed') return { kind: 'run', ticket: this.ticket(key, fingerprint) };
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

  private ticket(key: string, fingerprint: string): IdempotencyTicket {
    const { store } = this.options;
    return {
      succeed: (response) => store.complete(key, fingerprint, { kind: 'signed', response }, this.ttlSeconds),
      fail: async (error) => {
        if (RETRYABLE.has(error.code) || !error.auditId) return store.release(key);
        const outcome: StoredOutcome = {
          kind: 'refused',
          code: error.code,
          message: error.message,
          auditId: error.auditId,
          status: error.status,
        };
        return store.complete(key, fingerprint, outcome, this.ttlSeconds);
      },
    };
  }
}

/** A stored refusal as the error the edge renders (same code, message and auditId as the first answer). */
export function replayedError(outcome: Extract<StoredOutcome, { kind: 'refused' }>): SignerError {
  const error = new SignerError(outcome.code, outcome.message, { status: outcome.status });
  error.auditId = outcome.auditId;
  return error;
}
