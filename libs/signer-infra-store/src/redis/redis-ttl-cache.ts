import type { TtlCache } from '@signer/core';
import type { RedisConnection } from './redis-connection';

export interface RedisTtlCacheOptions {
  connection: RedisConnection;
  /** Namespace of this cache (`poe`, `release`, …). */
  name: string;
}

/** A TTL cache in Redis (JSON values, `SET … PX`), so every replica sees the same decisions. */
export class RedisTtlCache<V> implements TtlCache<V> {
  constructor(private readonly options: RedisTtlCacheOptions) {}

  async get(key: string): Promise<V | undefined> {
    const { connection, name } = this.options;
    const raw = await connection.run(`get ${name}`, (client) =>
      client.get(connection.key('cache', name, key)),
    );
    return raw === null ? undefined : (JSON.parse(raw) as V);
  }

  async set(key: string, value: V, ttlSeconds: number): Promise<void> {
    if (!(ttlSeconds > 0)) return;
    const { connection, name } = this.options;
    const ttlMs = Math.max(1, Math.floor(ttlSeconds * 1000));
    await connection.run(`set ${name}`, (client) =>
      client.set(connection.key('cache', name, key), JSON.stringify(value), 'PX', ttlMs),
    );
  }
}
