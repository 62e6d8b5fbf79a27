import {
  systemClock,
  type Clock,
  type IdempotencyClaim,
  type IdempotencyStore,
  type StoredOutcome,
} from '@signer/core';

export const DEFAULT_IDEMPOTENCY_MAX_ENTRIES = 100_000;

export interface MemoryIdempotencyStoreOptions {
  clock?: Clock;
  maxEntries?: number;
}

type Entry = { fingerprint: string; expiresAt: number; outcome?: StoredOutcome };

/** Idempotency records in this process; same semantics as the Redis store. Bounded (oldest dropped). */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private readonly clock: Clock;
  private readonly maxEntries: number;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxEntries = options.maxEntries ?? DEFAULT_IDEMPOTENCY_MAX_ENTRIES;
  }

  async claim(key: string, fingerprint: string, ttlSeconds: number): Promise<IdempotencyClaim> {
    const now = this.clock.now().getTime();
    const existing = this.entries.get(key);
    if (existing && existing.expiresAt > now) {
      return existing.outcome
        ? { state: 'done', fingerprint: existing.fingerprint, outcome: existing.outcome }
        : { state: 'pending', fingerprint: existing.fingerprint };
    }
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.delete(key);
    this.entries.set(key, { fingerprint, expiresAt: now + ttlSeconds * 1000 });
    return { state: 'claimed' };
  }

  async complete(
    key: string,
    fingerprint: string,
    outcome: StoredOutcome,
    ttlSeconds: number,
  ): Promise<void> {
    this.entries.set(key, {
      fingerprint,
      outcome,
      expiresAt: this.clock.now().getTime() + ttlSeconds * 1000,
    });
  }

  async release(key: string): Promise<void> {
    this.entries.delete(key);
  }
}
