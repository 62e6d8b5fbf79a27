import { randomBytes } from 'node:crypto';
import { systemClock, type Clock, type NonceStore } from '@signer/core';
import { requirePositiveInteger, requirePositiveNumber } from '../options';

/** `authority.dpop.nonceTtlSeconds` default of the contract (§9). */
export const DEFAULT_NONCE_TTL_SECONDS = 300;
export const DEFAULT_NONCE_STORE_MAX_ENTRIES = 100_000;
/** 128 bits: unguessable, and short enough for a `DPoP-Nonce` header. */
export const NONCE_BYTES = 16;

export interface MemoryNonceStoreOptions {
  ttlSeconds?: number;
  /** Bound on live nonces; beyond it the oldest is forgotten. */
  maxEntries?: number;
  clock?: Clock;
}

/**
 * Single-process {@link NonceStore}. Forgetting a nonce early is safe: the client is answered
 * `use_dpop_nonce` with a fresh one and retries, so when full the oldest nonce is dropped rather
 * than refusing to issue. One TTL for all nonces means insertion order is expiry order.
 */
export class MemoryNonceStore implements NonceStore {
  private readonly expiries = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly clock: Clock;

  constructor(options: MemoryNonceStoreOptions = {}) {
    this.ttlMs = requirePositiveNumber('ttlSeconds', options.ttlSeconds ?? DEFAULT_NONCE_TTL_SECONDS) * 1000;
    this.maxEntries = requirePositiveInteger(
      'maxEntries',
      options.maxEntries ?? DEFAULT_NONCE_STORE_MAX_ENTRIES,
    );
    this.clock = options.clock ?? systemClock;
  }

  get size(): number {
    return this.expiries.size;
  }

  async issue(): Promise<string> {
    const nowMs = this.clock.now().getTime();
    this.purgeExpired(nowMs);
    if (this.expiries.size >= this.maxEntries) {
      const oldest = this.expiries.keys().next();
      if (oldest.done !== true) this.expiries.delete(oldest.value);
    }
    const nonce = randomBytes(NONCE_BYTES).toString('base64url');
    this.expiries.set(nonce, nowMs + this.ttlMs);
    return nonce;
  }

  async isValid(nonce: string): Promise<boolean> {
    const expiresAtMs = this.expiries.get(nonce);
    if (expiresAtMs === undefined) return false;
    if (expiresAtMs > this.clock.now().getTime()) return true;
    this.expiries.delete(nonce);
    return false;
  }

  private purgeExpired(nowMs: number): void {
    for (const [nonce, expiresAtMs] of this.expiries) {
      if (expiresAtMs > nowMs) return;
      this.expiries.delete(nonce);
    }
  }
}
