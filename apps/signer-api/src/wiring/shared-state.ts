import type { Clock, IdempotencyStore, NonceStore, ReplayCache, TtlCache } from '@signer/core';
import {
  MemoryIdempotencyStore,
  MemoryNonceStore,
  MemoryReplayCache,
  MemoryTtlCache,
  RedisConnection,
  RedisIdempotencyStore,
  RedisNonceStore,
  RedisReplayCache,
  RedisTtlCache,
} from '@signer/infra-store';
import type { SignerConfig } from '../config/config-schema';

/**
 * Where shared state lives (contract §6): `quotas.store: memory` keeps it in this process;
 * `redis` puts replay cache, nonces and decision caches in Redis so any replica can serve any request.
 */
export interface SharedState {
  redis?: RedisConnection;
  cache<V>(name: string): TtlCache<V>;
  replay: ReplayCache;
  nonces(ttlSeconds: number): NonceStore;
  idempotency: IdempotencyStore;
  close(): Promise<void>;
}

export async function createSharedState(config: SignerConfig, clock: Clock): Promise<SharedState> {
  if (config.quotas.store === 'redis') {
    const redis = new RedisConnection({
      url: config.quotas.redisUrl as string,
      keyPrefix: config.quotas.redisKeyPrefix,
    });
    await redis.connect();
    return {
      redis,
      cache: <V>(name: string) => new RedisTtlCache<V>({ connection: redis, name }),
      replay: new RedisReplayCache(redis),
      nonces: (ttlSeconds) => new RedisNonceStore({ connection: redis, ttlSeconds }),
      idempotency: new RedisIdempotencyStore(redis),
      close: () => redis.close(),
    };
  }
  return {
    cache: <V>() => new MemoryTtlCache<V>({ clock }),
    replay: new MemoryReplayCache({ clock }),
    nonces: (ttlSeconds) => new MemoryNonceStore({ ttlSeconds, clock }),
    idempotency: new MemoryIdempotencyStore({ clock }),
    close: async () => undefined,
  };
}
