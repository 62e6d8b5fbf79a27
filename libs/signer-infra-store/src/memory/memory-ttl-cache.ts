import { systemClock, type Clock, type TtlCache } from '@signer/core';
import { requirePositiveInteger } from '../options';

/** Enough for the PoE and release-verdict caches of one process; each entry is a small object. */
export const DEFAULT_TTL_CACHE_MAX_ENTRIES = 10_000;

export interface MemoryTtlCacheOptions {
  /** Upper bound on entries; beyond it the least recently used entry is evicted. */
  maxEntries?: number;
  clock?: Clock;
}

interface Entry<V> {
  value: V;
  expiresAtMs: number;
}

/**
 * Single-process {@link TtlCache}. A `Map` keeps insertion order, so re-inserting on every hit
 * makes its first key the least recently used one: eviction is O(1) without a linked list.
 */
export class MemoryTtlCache<V> implements TtlCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly maxEntries: number;
  private readonly clock: Clock;

  constructor(options: MemoryTtlCacheOptions = {}) {
    this.maxEntries = requirePositiveInteger(
      'maxEntries',
      options.maxEntries ?? DEFAULT_TTL_CACHE_MAX_ENTRIES,
    );
    this.clock = options.clock ?? systemClock;
  }

  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<V | undefined> {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (this.clock.now().getTime() >= entry.expiresAtMs) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  async set(key: string, value: V, ttlSeconds: number): Promise<void> {
    // A set replaces: even when the new value is not stored, the old one must stop being served.
    this.entries.delete(key);
    // `!(x > 0)` also rejects NaN, which would otherwise never expire.
    if (!(ttlSeconds > 0)) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAtMs: this.clock.now().getTime() + ttlSeconds * 1000 });
  }
}
