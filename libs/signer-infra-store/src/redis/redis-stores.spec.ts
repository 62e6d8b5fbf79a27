import { ManualClock } from '@signer/testing';
import { whenAnswering } from '../../test/quota-load';
import { REDIS_URL, redisReplicas } from '../../test/redis-replicas';
import { RedisConnection } from './redis-connection';
import { RedisNonceStore } from './redis-nonce-store';
import { RedisReplayCache } from './redis-replay-cache';
import { RedisTtlCache } from './redis-ttl-cache';

describe('Redis stores (real Redis)', () => {
  const redis = redisReplicas();
  const { prefix } = redis;

  describe('when two replicas share the replay cache', () => {
    it('lets exactly one of many concurrent callers see a key first', async () => {
      const caches = [new RedisReplayCache(redis.a), new RedisReplayCache(redis.b)];
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => caches[i % 2].firstSeen('jti-1', 60)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });

  describe('when a nonce is issued by one replica', () => {
    it('is accepted by the other, and an unknown one is not', async () => {
      const nonce = await new RedisNonceStore({ connection: redis.a, ttlSeconds: 60 }).issue();
      const other = new RedisNonceStore({ connection: redis.b, ttlSeconds: 60 });
      await expect(other.isValid(nonce)).resolves.toBe(true);
      await expect(other.isValid('AAAAAAAAAAAAAAAAAAAAAA')).resolves.toBe(false);
    });
  });

  describe('when values are cached', () => {
    it('round-trips JSON with a TTL and stores nothing for ttl <= 0', async () => {
      const cache = new RedisTtlCache<{ n: number }>({ connection: redis.a, name: 'poe' });
      await cache.set('k', { n: 1 }, 30);
      await cache.set('z', { n: 2 }, 0);
      await expect(
        new RedisTtlCache<{ n: number }>({ connection: redis.b, name: 'poe' }).get('k'),
      ).resolves.toEqual({ n: 1 });
      await expect(cache.get('z')).resolves.toBeUndefined();
      const ttl = await redis.a.client.pttl(`${prefix}cache:poe:k`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(30000);
    });
  });

  describe('when a replica reads a cached value (its local tier)', () => {
    it('answers from memory for at most localSeconds, and never past the entry expiry', async () => {
      const clock = new ManualClock(1_000_000);
      const writer = new RedisTtlCache<{ n: number }>({ connection: redis.a, name: 'tier', clock });
      const reader = new RedisTtlCache<{ n: number }>({
        connection: redis.b,
        name: 'tier',
        localSeconds: 5,
        clock,
      });
      await writer.set('long', { n: 1 }, 60);
      await writer.set('short', { n: 2 }, 2);
      await expect(reader.get('long')).resolves.toEqual({ n: 1 });
      await expect(reader.get('short')).resolves.toEqual({ n: 2 });
      // Gone from Redis (a restart, say): the local copies still answer, within their bounds only.
      await redis.a.client.del(`${prefix}cache:tier:long`, `${prefix}cache:tier:short`);
      clock.advanceMs(1_999);
      await expect(reader.get('long')).resolves.toEqual({ n: 1 });
      await expect(reader.get('short')).resolves.toEqual({ n: 2 });
      clock.advanceMs(1); // the short entry's own expiry
      await expect(reader.get('short')).resolves.toBeUndefined();
      clock.advanceMs(3_000); // 5 s after the read
      await expect(reader.get('long')).resolves.toBeUndefined();
    });

    it('keeps nothing locally when localSeconds is 0', async () => {
      const writer = new RedisTtlCache<{ n: number }>({ connection: redis.a, name: 'tier0' });
      const reader = new RedisTtlCache<{ n: number }>({
        connection: redis.b,
        name: 'tier0',
        localSeconds: 0,
      });
      await writer.set('k', { n: 3 }, 60);
      await expect(reader.get('k')).resolves.toEqual({ n: 3 });
      await redis.a.client.del(`${prefix}cache:tier0:k`);
      await expect(reader.get('k')).resolves.toBeUndefined();
    });

    it('remembers a valid nonce for at most localSeconds, never past its own expiry', async () => {
      const clock = new ManualClock(2_000_000);
      const nonce = await new RedisNonceStore({ connection: redis.a, ttlSeconds: 60 }).issue();
      const other = new RedisNonceStore({ connection: redis.b, ttlSeconds: 60, localSeconds: 5, clock });
      await expect(other.isValid(nonce)).resolves.toBe(true);
      await redis.a.client.del(`${prefix}nonce:${nonce}`);
      clock.advanceMs(4_999);
      await expect(other.isValid(nonce)).resolves.toBe(true);
      clock.advanceMs(1);
      await expect(other.isValid(nonce)).resolves.toBe(false);
      const brief = await new RedisNonceStore({ connection: redis.a, ttlSeconds: 1 }).issue();
      await expect(other.isValid(brief)).resolves.toBe(true);
      await redis.a.client.del(`${prefix}nonce:${brief}`);
      clock.advanceMs(1_000); // past the nonce's 1 s life, well within localSeconds
      await expect(other.isValid(brief)).resolves.toBe(false);
    });
  });

  describe('when Redis is unreachable', () => {
    it('fails closed with upstream_unavailable', async () => {
      const dead = new RedisConnection({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 200 });
      await expect(dead.connect()).rejects.toBeDefined();
      await expect(new RedisReplayCache(dead).firstSeen('x', 10)).rejects.toMatchObject({
        code: 'upstream_unavailable',
        upstream: 'redis',
      });
      await dead.close();
    });
  });

  describe('when the client ends without close() (ioredis ends a Sentinel client mid-failover)', () => {
    it('connects again by itself, and stays ended after close()', async () => {
      const connection = new RedisConnection({ url: REDIS_URL, keyPrefix: prefix });
      await connection.connect();
      const ended = new Promise((resolve) => connection.client.once('end', resolve));
      connection.client.disconnect();
      await ended;
      await expect(connection.ping()).rejects.toMatchObject({ code: 'upstream_unavailable' });
      await whenAnswering(() => connection.ping(), 5_000);

      await connection.close();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(connection.client.status).toBe('end');
    });
  });
});
