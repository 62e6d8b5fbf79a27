import { randomUUID } from 'node:crypto';
import { SHARED_REDIS, SHARED_REDIS_URL, TcpProxy } from '@signer/testing';
import Redis from 'ioredis';
import { startHarness, type Harness, type HarnessOptions } from './harness';

export interface RedisHarness {
  harness: Harness;
  /** Between the Signer and the shared Redis: the test slows or cuts this link, never Redis. */
  proxy: TcpProxy;
  /** A direct connection to the shared Redis, to read what the Signer wrote. */
  redis: Redis;
  /** This run's key prefix: no other test sees its keys. */
  prefix: string;
  /** Stops the Signer and the proxy and deletes this run's keys. */
  close(): Promise<void>;
}

/** Deletes every key under `prefix` (a run's own keys on the shared Redis). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
}

/** `startHarness` with `quotas.store: redis` on the shared Redis, through a `TcpProxy`. */
export async function startRedisHarness(options: HarnessOptions = {}): Promise<RedisHarness> {
  const prefix = `signer-test:${randomUUID()}:`;
  const proxy = await TcpProxy.start(SHARED_REDIS);
  const redis = new Redis(SHARED_REDIS_URL);
  const harness = await startHarness({
    ...options,
    env: {
      SIGNER__QUOTAS__STORE: 'redis',
      SIGNER__QUOTAS__REDISURL: proxy.url('redis'),
      // Env values are YAML: quote a prefix that ends in ':'.
      SIGNER__QUOTAS__REDISKEYPREFIX: JSON.stringify(prefix),
      ...options.env,
    },
  });
  return {
    harness,
    proxy,
    redis,
    prefix,
    close: async () => {
      await harness.close();
      await proxy.close();
      await deleteKeys(redis, prefix);
      redis.disconnect();
    },
  };
}
