import type { SignerErrorCode } from '../errors';
import type { SignDsseResponse } from '../model';

/** What a finished request answered, kept so a retry with the same key gets the same answer. */
export type StoredOutcome =
  | { kind: 'signed'; response: SignDsseResponse }
  | { kind: 'refused'; code: SignerErrorCode; message: string; auditId: string };

/** One record: `key` already scopes tenant and caller; `tenant` is who its bytes are charged to. */
export interface IdempotencyScope {
  tenant: string;
  key: string;
}

/** Which byte budget refused a new claim: the tenant's own, or the whole installation's. */
export type IdempotencyBudget = 'tenant' | 'overall';

export type IdempotencyClaim =
  /** This caller runs the request; `claimId` names its claim for `complete`/`release`. */
  | { state: 'claimed'; claimId: string }
  | { state: 'pending'; fingerprint: string }
  | { state: 'done'; fingerprint: string; outcome: StoredOutcome }
  /** No room for a new record within the byte budget; nothing was claimed. */
  | { state: 'full'; budget: IdempotencyBudget; limitBytes: number; retryAfterSeconds: number };

/**
 * Idempotency records (contract §2.1), scoped by the caller's tenant and identity inside `key`.
 * Contract:
 * - `claim` is atomic across replicas: exactly one concurrent caller gets `claimed` for a key; the
 *   others see `pending` (or `done` once completed).
 * - A claim is a short lease: if it is neither completed nor released in time (its replica died,
 *   the completion write failed), it lapses and the next `claim` of the key wins.
 * - A completed record lives the store's full TTL. Records are bounded in bytes, per tenant and
 *   overall: a new claim that finds no room is `full` (never an eviction of a record younger than
 *   the store's minimum retention); an existing record is always answered.
 * - `complete` and `release` act only on the caller's own claim (or a key no one holds any more):
 *   a late call from a lapsed claim never overwrites or frees another caller's claim.
 */
export interface IdempotencyStore {
  claim(scope: IdempotencyScope, fingerprint: string): Promise<IdempotencyClaim>;
  complete(
    scope: IdempotencyScope,
    claimId: string,
    fingerprint: string,
    outcome: StoredOutcome,
  ): Promise<void>;
  /** Releases a claim whose request ended in a retryable failure, so a retry runs again. */
  release(scope: IdempotencyScope, claimId: string): Promise<void>;
}
