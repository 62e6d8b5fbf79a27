import { systemClock, type Clock, type TtlCache } from '@signer/core';
import { MemoryTtlCache } from '../memory/memory-ttl-cache';
import { DEFAULT_LOCAL_TIER_SECONDS, localTtlSeconds } from './local-tier';
import type { RedisConnection } from './redis-connection';

export interface RedisTtlCacheOptions {
  connection: RedisConnection;
  /** Namespace of this cache (`poe`, `release`, …). */
  name: string;
  /** How long a replica reuses an entry it read without asking Redis again (never past the entry's expiry). */
  localSeconds?: number;
  /** Wall clock; the expiry stored with each entry is on it. */
  clock?: Clock;
}

/** What is stored under a key: the value and when it expires (so a local copy never outlives it). */
interface Stored<V> {
  expiresAtMs: number;
  value: V;
}

/**
 * A TTL cache in Redis (JSON values, `SET … PX`), so every replica sees the same decisions. A
 * replica keeps what it read for a few seconds (never past the entry's own expiry), so a hot key
 * costs one Redis round trip per replica per few seconds rather than one per request.
 */
export class RedisTtlCache<V> implements TtlCache<V> {
  private readonly local: MemoryTtlCache<V>;
  private readonly clock: Clock;
  private readonly localSeconds: number;

  constructor(private readonly options: RedisTtlCacheOptions) {
    this.clock = options.clock ?? systemClock;
    this.localSeconds = options.localSeconds ?? DEFAULT_LOCAL_TIER_SECONDS;
    localTtlSeconds(0, 0, this.localSeconds); // validates it at construction
    this.local = new MemoryTtlCache<V>({ clock: this.clock });
  }

  async get(key: string): Promise<V | undefined> {
    const known = await this.local.get(key);
    if (known !== undefined) return known;
    const now = this.clock.now().getTime();
    const { connection, name } = this.options;
    const raw = await connection.run(`get ${name}`, (client) =>
      client.get(connection.key('cache', name, key)),
    );
    if (raw === null) return undefined;
    const stored = JSON.parse(raw) as Stored<V>;
    // Redis expires the key itself; a reader whose clock runs behind the writer's still never
    // keeps a local copy past the expiry the writer recorded.
    if (!(stored.expiresAtMs > now)) return stored.value;
    await this.local.set(key, stored.value, localTtlSeconds(stored.expiresAtMs, now, this.localSeconds));
    return stored.value;
  }

  async set(key: string, value: V, ttlSeconds: number): Promise<void> {
    if (!(ttlSeconds > 0)) return;
    const { connection, name } = this.options;
    const ttlMs = Math.max(1, Math.floor(ttlSeconds * 1000));
    const now = this.clock.now().getTime();
    const stored: Stored<V> = { expiresAtMs: now + ttlMs, value };
    await connection.run(`set ${name}`, (client) =>
      client.set(connection.key('cache', name, key), JSON.stringify(stored), 'PX', ttlMs),
    );
    await this.local.set(key, value, localTtlSeconds(stored.expiresAtMs, now, this.localSeconds));
  }
}
