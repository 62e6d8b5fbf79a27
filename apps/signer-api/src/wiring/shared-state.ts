import type { Clock, IdempotencyStore, NonceStore, ReplayCache, TtlCache } from '@signer/core';
import {
  type IdempotencyLimitsOptions,
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
import { redisConnectionOptions } from '../config/redis-config';

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
    // Standalone, Cluster or Sentinel: every store below works on each (one hash slot per script).
    const redis = new RedisConnection(redisConnectionOptions(config));
    await redis.connect();
    return {
      redis,
      cache: <V>(name: string) => new RedisTtlCache<V>({ connection: redis, name }),
      replay: new RedisReplayCache(redis),
      nonces: (ttlSeconds) => new RedisNonceStore({ connection: redis, ttlSeconds }),
      idempotency: new RedisIdempotencyStore({ connection: redis, ...idempotencyLimits(config) }),
      close: () => redis.close(),
    };
  }
  return {
    cache: <V>() => new MemoryTtlCache<V>({ clock }),
    replay: new MemoryReplayCache({ clock }),
    nonces: (ttlSeconds) => new MemoryNonceStore({ ttlSeconds, clock }),
    idempotency: new MemoryIdempotencyStore({ clock, ...idempotencyLimits(config) }),
    close: async () => undefined,
  };
}

/** Slack between the request timeout and a claim's lease, for the slowest upstream call in flight. */
export const IDEMPOTENCY_LEASE_MARGIN_SECONDS = 30;

/**
 * Lifetimes and byte budgets of idempotency records. A claim's lease covers one request (its
 * timeout plus a margin): a replica that dies holding a claim blocks the key that long, no more.
 */
export function idempotencyLimits(config: SignerConfig): IdempotencyLimitsOptions {
  const { idempotency } = config;
  return {
    ttlSeconds: idempotency.ttlSeconds,
    leaseSeconds:
      idempotency.leaseSeconds ??
      Math.ceil(config.server.requestTimeoutMs / 1000) + IDEMPOTENCY_LEASE_MARGIN_SECONDS,
    minRetentionSeconds: idempotency.minRetentionSeconds,
    maxBytesPerTenant: idempotency.maxBytesPerTenant,
    maxBytes: idempotency.maxBytes,
  };
}
