import { randomUUID } from 'node:crypto';
import { SignerError } from '@signer/core';
import { RedisConnection } from '../redis/redis-connection';
import { RedisRateShaper } from './redis-rate-shaper';

const REDIS_URL = process.env['SIGNER_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('RedisRateShaper (real Redis)', () => {
  const prefix = `signer-test:${randomUUID()}:`;
  let a: RedisConnection;
  let b: RedisConnection;
  const waits: number[] = [];
  const sleep = async (ms: number) => {
    waits.push(ms);
  };

  beforeAll(async () => {
    a = new RedisConnection({ url: REDIS_URL, keyPrefix: prefix });
    b = new RedisConnection({ url: REDIS_URL, keyPrefix: prefix });
    await Promise.all([a.connect(), b.connect()]);
  });
  afterEach(() => {
    waits.length = 0;
  });
  afterAll(async () => {
    const keys = await a.client.keys(`${prefix}*`);
    if (keys.length) await a.client.del(...keys);
    await Promise.all([a.close(), b.close()]);
  });

  const outcomes = async (key: string, calls: number, limit: { maxRps: number; maxWaitMs: number }) => {
    const shapers = [
      new RedisRateShaper({ connection: a, sleep }),
      new RedisRateShaper({ connection: b, sleep }),
    ];
    return Promise.all(
      Array.from({ length: calls }, (_, i) =>
        shapers[i % 2].acquire(key, limit).then(
          () => 'granted' as const,
          (error: unknown) => error,
        ),
      ),
    );
  };

  describe('when two replicas ask for slots of one key at once', () => {
    it('grants exactly one slot when the next would be beyond the wait bound', async () => {
      const results = await outcomes('kms:one', 20, { maxRps: 0.01, maxWaitMs: 0 });
      expect(results.filter((r) => r === 'granted')).toHaveLength(1);
      const refused = results.filter((r) => r !== 'granted') as SignerError[];
      expect(refused).toHaveLength(19);
      for (const error of refused) {
        expect(error).toBeInstanceOf(SignerError);
        expect(error).toMatchObject({ code: 'plan_throttled', limit: 'kms' });
        expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(99);
      }
    });

    it('hands out at most 1 + maxWait × maxRps slots, each caller waiting for a distinct one', async () => {
      const results = await outcomes('kms:many', 30, { maxRps: 10, maxWaitMs: 1000 });
      const granted = results.filter((r) => r === 'granted').length;
      expect(granted).toBeLessThanOrEqual(11);
      expect(granted).toBeGreaterThanOrEqual(10);
      // Distinct slots 100 ms apart: every recorded wait differs from the others by tens of ms.
      const sorted = [...waits].sort((x, y) => x - y);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i] - sorted[i - 1]).toBeGreaterThan(50);
    });
  });

  describe('when Redis is unreachable', () => {
    it('refuses with upstream_unavailable (fail closed)', async () => {
      const down = new RedisConnection({
        url: 'redis://127.0.0.1:1',
        keyPrefix: prefix,
        connectTimeoutMs: 200,
      });
      try {
        await expect(
          new RedisRateShaper({ connection: down, sleep }).acquire('kms:x', { maxRps: 1, maxWaitMs: 0 }),
        ).rejects.toMatchObject({ code: 'upstream_unavailable', upstream: 'redis' });
      } finally {
        await down.close();
      }
    });
  });
});
