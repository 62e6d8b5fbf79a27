import type { SignerErrorCode } from '../errors';
import type { SignDsseResponse } from '../model';

/** What a finished request answered, kept so a retry with the same key gets the same answer. */
export type StoredOutcome =
  | { kind: 'signed'; response: SignDsseResponse }
  | { kind: 'refused'; code: SignerErrorCode; message: string; auditId: string; status?: number };

export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'pending'; fingerprint: string }
  | { state: 'done'; fingerprint: string; outcome: StoredOutcome };

/**
 * Idempotency records (contract §2.1), scoped by the caller's tenant and identity inside `key`.
 * Contract: `claim` is atomic across replicas — exactly one concurrent caller gets `claimed` for a
 * key; the others see `pending` (or `done` once completed). Records expire after their TTL.
 */
export interface IdempotencyStore {
  claim(key: string, fingerprint: string, ttlSeconds: number): Promise<IdempotencyClaim>;
  complete(key: string, fingerprint: string, outcome: StoredOutcome, ttlSeconds: number): Promise<void>;
  /** Releases a claim whose request ended in a retryable failure, so a retry runs again. */
  release(key: string): Promise<void>;
}
