import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { describeGuardOverStore } from '../../test/idempotency-guard-scenarios';
import { describeIdempotencyStoreConformance } from '../../test/idempotency-store-conformance';
import { RedisConnection } from './redis-connection';
import { idempotencyKeys, RedisIdempotencyStore } from './redis-idempotency-store';

const REDIS_URL = process.env['SIGNER_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('RedisIdempotencyStore (real Redis)', () => {
  // A unique prefix per run, and one per test below it: the byte accounting is per prefix.
  const runPrefix = `signer-test:${randomUUID()}:`;
  const connections: RedisConnection[] = [];
  const connect = async (prefix: string) => {
    const connection = new RedisConnection({ url: REDIS_URL, keyPrefix: prefix });
    connections.push(connection);
    await connection.connect();
    return connection;
  };
  afterAll(async () => {
    const [first] = connections;
    if (first) {
      const keys = await first.client.keys(`${runPrefix}*`);
      if (keys.length) await first.client.del(...keys);
    }
    await Promise.all(connections.map((c) => c.close()));
  });

  describe('conformance (scripts driven by a manual clock)', () => {
    describeIdempotencyStoreConformance(async ({ clock, limits }) => {
      const store = new RedisIdempotencyStore({
        connection: await connect(`${runPrefix}${randomUUID()}:`),
        timeSource: clock,
        ...limits,
      });
      return { store, usage: (tenant) => store.usage(tenant) };
    });
  });

  describe('under the IdempotencyGuard (Redis time, two replicas)', () => {
    describeGuardOverStore(async (limits) => {
      const prefix = `${runPrefix}${randomUUID()}:`;
      const replicas = [await connect(prefix), await connect(prefix)];
      let next = 0;
      return () => new RedisIdempotencyStore({ connection: replicas[next++ % 2], ...limits });
    });
  });

  describe('when a record expires in Redis before its accounting is swept', () => {
    it('claims the key again and charges it once', async () => {
      const connection = await connect(`${runPrefix}${randomUUID()}:`);
      const store = new RedisIdempotencyStore({ connection });
      const scope = { tenant: 'tenant-a', key: 'k' };
      expect((await store.claim(scope, 'fp')).state).toBe('claimed');
      const charged = await store.usage('tenant-a');
      const [records] = idempotencyKeys(connection) as [string];
      await connection.client.hdel(records, 'k');
      expect((await store.claim(scope, 'fp')).state).toBe('claimed');
      expect(await store.usage('tenant-a')).toBe(charged);
      expect(await store.usage()).toBe(charged);
    });
  });
});
