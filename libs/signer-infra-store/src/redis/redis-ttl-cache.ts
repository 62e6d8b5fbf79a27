import type { TtlCache } from '@signer/core';
import { DEFAULT_LOCAL_TIER_SECONDS, LocalTier } from './local-tier';
import type { RedisConnection } from './redis-connection';

export interface RedisTtlCacheOptions {
  connection: RedisConnection;
  /** Namespace of this cache (`poe`, `release`, …). */
  name: string;
  /** How long a replica reuses an entry it read without asking Redis again (never past the entry's expiry). */
  localSeconds?: number;
  /** Wall clock in ms; the expiry stored with each entry is on it. */
  nowMs?: () => number;
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
  private readonly local: LocalTier<V>;
  private readonly nowMs: () => number;

  constructor(private readonly options: RedisTtlCacheOptions) {
    this.local = new LocalTier<V>(options.localSeconds ?? DEFAULT_LOCAL_TIER_SECONDS);
    this.nowMs = options.nowMs ?? Date.now;
  }

  async get(key: string): Promise<V | undefined> {
    const now = this.nowMs();
    const known = this.local.get(key, now);
    if (known !== undefined) return known;
    const { connection, name } = this.options;
    const raw = await connection.run(`get ${name}`, (client) =>
      client.get(connection.key('cache', name, key)),
    );
    if (raw === null) return undefined;
    const stored = JSON.parse(raw) as Stored<V>;
    // Redis expires the key itself; a reader whose clock runs behind the writer's still never
    // keeps a local copy past the expiry the writer recorded.
    if (!(stored.expiresAtMs > now)) return stored.value;
    this.local.set(key, stored.value, stored.expiresAtMs, now);
    return stored.value;
  }

  async set(key: string, value: V, ttlSeconds: number): Promise<void> {
    if (!(ttlSeconds > 0)) return;
    const { connection, name } = this.options;
    const ttlMs = Math.max(1, Math.floor(ttlSeconds * 1000));
    const now = this.nowMs();
    const stored: Stored<V> = { expiresAtMs: now + ttlMs, value };
    await connection.run(`set ${name}`, (client) =>
      client.set(connection.key('cache', name, key), JSON.stringify(stored), 'PX', ttlMs),
    );
    this.local.set(key, value, stored.expiresAtMs, now);
  }
}
