import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from '@jest/globals';
import { RedisConnection, type RedisConnectionOptions } from '../src/redis/redis-connection';

export const REDIS_URL = process.env['SIGNER_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A unique key prefix per run, so parallel runs and other suites never see each other's keys. */
export function uniquePrefix(): string {
  return `signer-test:${randomUUID()}:`;
}

/**
 * Two connections: two replicas of the signer sharing one Redis — the machine's server under a
 * key prefix, or the topology (cluster, sentinel) the options name.
 */
export async function connectReplicas(
  target: string | RedisConnectionOptions,
): Promise<[RedisConnection, RedisConnection]> {
  const options = typeof target === 'string' ? { url: REDIS_URL, keyPrefix: target } : target;
  const a = new RedisConnection(options);
  const b = new RedisConnection(options);
  await Promise.all([a.connect(), b.connect()]);
  return [a, b];
}

/** Deletes every key under the prefix, then closes the connections. */
export async function dropAndClose(prefix: string, ...connections: RedisConnection[]): Promise<void> {
  const [first] = connections;
  const keys = first ? await first.client.keys(`${prefix}*`) : [];
  if (first && keys.length) await first.client.del(...keys);
  await Promise.all(connections.map((connection) => connection.close()));
}

/** Two replicas under one fresh prefix, connected while the tests of the enclosing describe run. */
export interface RedisReplicas {
  readonly prefix: string;
  readonly a: RedisConnection;
  readonly b: RedisConnection;
}

/** Registers the enclosing describe's hooks: connect before all its tests, drop the keys and close after. */
export function redisReplicas(): RedisReplicas {
  const prefix = uniquePrefix();
  let pair: [RedisConnection, RedisConnection] | undefined;
  beforeAll(async () => {
    pair = await connectReplicas(prefix);
  });
  afterAll(() => (pair ? dropAndClose(prefix, ...pair) : undefined));
  const connected = () => pair ?? fail('the replicas are connected only while tests run');
  return {
    prefix,
    get a() {
      return connected()[0];
    },
    get b() {
      return connected()[1];
    },
  };
}

function fail(message: string): never {
  throw new Error(message);
}
