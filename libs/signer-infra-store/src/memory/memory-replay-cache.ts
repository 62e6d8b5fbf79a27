import { SignerError, systemClock, type Clock, type ReplayCache } from '@signer/core';
import { requirePositiveInteger } from '../options';

/** A DPoP `jti` costs ~100 bytes here; this bounds the cache to a few tens of MiB. */
/**
 * DPoP proofs are remembered until `iat + 2 × clockSkewSeconds + 5` (65 s for a proof made now at
 * the default 30 s skew): this sustains ~4,600 fresh proofs/s (≈ 40 MB of keys), over twice what
 * one process signs.
 */
export const DEFAULT_REPLAY_CACHE_MAX_ENTRIES = 300_000;

export interface MemoryReplayCacheOptions {
  /** Hard bound on remembered keys; see {@link MemoryReplayCache} for what happens when full. */
  maxEntries?: number;
  clock?: Clock;
}

/**
 * Single-process {@link ReplayCache}. `firstSeen` never awaits before deciding, so on one event
 * loop the check-and-remember is atomic.
 *
 * When full of live keys it throws `upstream_unavailable` (503) instead of evicting one: evicting
 * a live key would let that proof be replayed, and answering "seen" would refuse honest callers
 * with a misleading 401. A 503 with `Retry-After` is the only answer that is neither. The error
 * names `redis` because that is the upstream that replaces this store when memory is not enough.
 */
export class MemoryReplayCache implements ReplayCache {
  /** key → expiry (epoch ms). Insertion order is refreshed whenever a key is (re)stored. */
  private readonly expiries = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly clock: Clock;
  /** A lower bound on the earliest expiry held: until then a full sweep cannot free anything. */
  private earliestExpiryMs = Number.POSITIVE_INFINITY;
  /**
   * Keys in the order they were stored, with the expiry they were stored with. Callers use one
   * TTL, so this is (nearly) expiry order: expired keys leave from its head in O(1) each, without
   * walking the map (whose iteration also walks the holes deleted entries leave behind).
   */
  private readonly order: Array<{ key: string; expiresAtMs: number }> = [];
  private orderHead = 0;

  constructor(options: MemoryReplayCacheOptions = {}) {
    this.maxEntries = requirePositiveInteger(
      'maxEntries',
      options.maxEntries ?? DEFAULT_REPLAY_CACHE_MAX_ENTRIES,
    );
    this.clock = options.clock ?? systemClock;
  }

  get size(): number {
    return this.expiries.size;
  }

  async firstSeen(key: string, ttlSeconds: number): Promise<boolean> {
    // A non-positive window would remember nothing and so accept every replay: a caller bug.
    if (!(ttlSeconds > 0)) {
      throw new RangeError(`ttlSeconds: expected a positive number, got ${String(ttlSeconds)}`);
    }
    const nowMs = this.clock.now().getTime();
    const expiresAtMs = this.expiries.get(key);
    if (expiresAtMs !== undefined && expiresAtMs > nowMs) return false;
    this.expiries.delete(key);
    this.purgeExpiredHead(nowMs);
    if (this.expiries.size >= this.maxEntries) this.sweep(nowMs);
    if (this.expiries.size >= this.maxEntries) {
      throw new SignerError('upstream_unavailable', 'replay cache is full of unexpired keys', {
        upstream: 'redis',
        retryAfterSeconds: Math.max(1, Math.ceil((this.earliestExpiryMs - nowMs) / 1000)),
      });
    }
    const newExpiryMs = nowMs + ttlSeconds * 1000;
    this.expiries.set(key, newExpiryMs);
    this.order.push({ key, expiresAtMs: newExpiryMs });
    this.earliestExpiryMs = Math.min(this.earliestExpiryMs, newExpiryMs);
    return true;
  }

  /** Callers use one TTL, so the oldest keys usually expire first: this keeps the common case O(1). */
  private purgeExpiredHead(nowMs: number): void {
    while (this.orderHead < this.order.length) {
      const oldest = this.order[this.orderHead];
      if (oldest.expiresAtMs > nowMs) break;
      // Only if the map still holds this very entry (not a later one stored under the same key).
      if (this.expiries.get(oldest.key) === oldest.expiresAtMs) this.expiries.delete(oldest.key);
      this.orderHead += 1;
    }
    if (this.orderHead > 4096 && this.orderHead * 2 > this.order.length) {
      this.order.splice(0, this.orderHead);
      this.orderHead = 0;
    }
  }

  private sweep(nowMs: number): void {
    if (nowMs < this.earliestExpiryMs) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [key, expiresAtMs] of this.expiries) {
      if (expiresAtMs <= nowMs) this.expiries.delete(key);
      else earliest = Math.min(earliest, expiresAtMs);
    }
    this.earliestExpiryMs = earliest;
  }
}
