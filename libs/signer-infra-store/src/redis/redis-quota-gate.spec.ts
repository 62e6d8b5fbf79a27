import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { QuotaGate } from '@signer/core';
import { freePort, redisCli, RedisServerProcess, waitFor } from '@signer/testing';
import { describeQuotaGateConformance, expectThrottled, plan } from '../../test/quota-gate-conformance';
import { refusal } from '../../test/refusal';
import { REDIS_URL, redisReplicas } from '../../test/redis-replicas';
import { secondsUntilNextUtcMidnight } from '../memory/quota-math';
import { RedisConnection } from './redis-connection';
import { RedisQuotaGate } from './redis-quota-gate';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Gives each test its own tenant namespace, so tests sharing one prefix never share counters. */
function namespaced(gate: QuotaGate): QuotaGate {
  const ns = randomUUID();
  return {
    acquire: (subject, limits) => gate.acquire({ ...subject, tenant: `${ns}/${subject.tenant}` }, limits),
  };
}

describe('RedisQuotaGate (real Redis)', () => {
  const redis = redisReplicas();
  const { prefix } = redis;

  describe('conformance (scripts driven by a manual clock)', () => {
    describeQuotaGateConformance(({ clock, leaseSeconds }) =>
      namespaced(new RedisQuotaGate({ connection: redis.a, leaseSeconds, timeSource: clock })),
    );
  });

  describe('with Redis server time', () => {
    const subject = () => ({ licenseId: 'lic-1', tenant: `tenant-${randomUUID()}` });

    describe('when two replicas share one licence', () => {
      it('admits exactly the burst across both, and counts down one bucket', async () => {
        const replicas = [
          new RedisQuotaGate({ connection: redis.a }),
          new RedisQuotaGate({ connection: redis.b }),
        ];
        const who = subject();
        const limits = plan({ qps: 0.01, burst: 6 });
        const results = await Promise.allSettled(
          Array.from({ length: 30 }, (_, i) => replicas[i % 2].acquire(who, limits)),
        );
        const admitted = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.qpsRemaining] : []));
        expect(admitted.sort()).toEqual([0, 1, 2, 3, 4, 5]);
      });

      it('never hands out more slots than the concurrency limit', async () => {
        const replicas = [
          new RedisQuotaGate({ connection: redis.a }),
          new RedisQuotaGate({ connection: redis.b }),
        ];
        const who = subject();
        const limits = plan({ concurrency: 3 });
        const results = await Promise.allSettled(
          Array.from({ length: 30 }, (_, i) => replicas[i % 2].acquire(who, limits)),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
        const gate = replicas[0];
        expect(await redis.a.client.zcard(gate.keys(who).leases)).toBe(3);
      });
    });

    describe('when the bucket is empty and time passes', () => {
      it('refills at qps per second of server time', async () => {
        const gate = new RedisQuotaGate({ connection: redis.a });
        const who = subject();
        const limits = plan({ qps: 5, burst: 1 });
        await gate.acquire(who, limits);
        expectThrottled(await refusal(gate.acquire(who, limits)), 'qps', 1);
        await sleep(250);
        await expect(gate.acquire(who, limits)).resolves.toMatchObject({ qpsRemaining: 0 });
      });
    });

    describe('when a replica never releases its lease', () => {
      it('lets any replica reclaim the slot once the lease has expired', async () => {
        const who = subject();
        const limits = plan({ concurrency: 1 });
        const crashed = new RedisQuotaGate({ connection: redis.a, leaseSeconds: 0.3 });
        await crashed.acquire(who, limits);
        const survivor = new RedisQuotaGate({ connection: redis.b, leaseSeconds: 0.3 });
        expectThrottled(await refusal(survivor.acquire(who, limits)), 'concurrency', 1);
        await sleep(400);
        await expect(survivor.acquire(who, limits)).resolves.toBeDefined();
        expect(await redis.b.client.zcard(survivor.keys(who).leases)).toBe(1);
      });
    });

    describe('when the daily cap is reached', () => {
      it('answers Retry-After until the next UTC midnight of server time', async () => {
        const gate = new RedisQuotaGate({ connection: redis.a });
        const who = subject();
        await gate.acquire(who, plan({ dailyCap: 1 }));
        const error = await refusal(gate.acquire(who, plan({ dailyCap: 1 })));
        const [seconds, micros] = await redis.a.client.time();
        const expected = secondsUntilNextUtcMidnight(
          Number(seconds) * 1000 + Math.floor(Number(micros) / 1000),
        );
        expect(error.limit).toBe('daily');
        expect(Math.abs((error.retryAfterSeconds as number) - expected)).toBeLessThanOrEqual(1);
      });
    });

    describe('when a licence is used', () => {
      it('keeps its state under the prefix, tagged by tenant and licence, with expiries', async () => {
        const gate = new RedisQuotaGate({ connection: redis.a });
        const who = { licenseId: 'lic:{odd}', tenant: 'tenant a' };
        await gate.acquire(who, plan());
        const keys = gate.keys(who);
        expect(keys).toEqual({
          state: `${prefix}quota:{tenant%20a:lic%3A%7Bodd%7D}:state`,
          leases: `${prefix}quota:{tenant%20a:lic%3A%7Bodd%7D}:leases`,
        });
        expect(await redis.a.client.hgetall(keys.state)).toMatchObject({ used: '1', tokens: '99' });
        expect(await redis.a.client.pttl(keys.state)).toBeGreaterThan(60_000);
        expect(await redis.a.client.pttl(keys.leases)).toBeGreaterThan(0);
        expect(await redis.a.client.pttl(keys.leases)).toBeLessThanOrEqual(31_000);
      });
    });
  });

  describe('when Redis is unreachable', () => {
    it('refuses with upstream_unavailable, never an allow', async () => {
      const dead = new RedisConnection({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 200 });
      await expect(dead.connect()).rejects.toBeDefined();
      const error = await refusal(
        new RedisQuotaGate({ connection: dead }).acquire({ licenseId: 'l', tenant: 't' }, plan()),
      );
      expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'redis', retryAfterSeconds: 1 });
      await dead.close();
    });

    it('does not turn a release into a failure, and reports it', async () => {
      const flaky = new RedisConnection({ url: REDIS_URL, keyPrefix: prefix });
      await flaky.connect();
      const reported: unknown[] = [];
      const gate = new RedisQuotaGate({ connection: flaky, onReleaseError: (error) => reported.push(error) });
      const lease = await gate.acquire({ licenseId: 'l', tenant: `t-${randomUUID()}` }, plan());
      await flaky.close();
      await expect(lease.release('failed')).resolves.toBeUndefined();
      expect(reported).toHaveLength(1);
      expect(reported[0]).toMatchObject({ code: 'upstream_unavailable' });
    });
  });

  describe('when writes must be acknowledged by a replica (minReplicaAcks 1)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'redis-acks-'));
    let master: RedisServerProcess;
    let replica: RedisServerProcess;
    beforeAll(async () => {
      const server = async (port: number) =>
        RedisServerProcess.start(port, [
          ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir],
          ...['--dbfilename', `dump-${port}.rdb`, '--repl-diskless-sync-delay', '0'],
        ]);
      master = await server(await freePort());
      replica = await server(await freePort());
    }, 30_000);
    afterAll(async () => {
      await Promise.all([master?.kill(), replica?.kill()]);
      rmSync(dir, { recursive: true, force: true });
    });
    const attach = async () => {
      await redisCli(replica.port, 'replicaof', '127.0.0.1', String(master.port));
      await waitFor('the replica in sync', 10_000, async () =>
        (await redisCli(master.port, 'info', 'replication')).includes('state=online') ? true : undefined,
      );
    };

    it('reports a release no replica acknowledged (a promoted replica would still hold the slot), and admits again once a replica is back', async () => {
      await attach();
      // A generous ack timeout: a loaded CI host answered a fresh replica's GETACK after 200 ms.
      const connection = new RedisConnection({
        url: `redis://127.0.0.1:${master.port}`,
        minReplicaAcks: 1,
        replicaAckTimeoutMs: 3000,
      });
      await connection.connect();
      try {
        const reported: unknown[] = [];
        const gate = new RedisQuotaGate({ connection, onReleaseError: (error) => reported.push(error) });
        const subject = { licenseId: 'l', tenant: `t-${randomUUID()}` };
        const lease = await gate.acquire(subject, plan({ concurrency: 1 }));
        const { leases } = gate.keys(subject);
        expect(await redisCli(replica.port, 'zcard', leases)).toBe('1\n');

        await redisCli(replica.port, 'replicaof', 'no', 'one');
        await expect(lease.release('signed')).resolves.toBeUndefined();
        expect(reported).toHaveLength(1);
        expect(reported[0]).toMatchObject({ code: 'upstream_unavailable', upstream: 'redis' });
        // The master freed the slot; the detached replica (what a failover would promote) has not.
        expect(await redisCli(master.port, 'zcard', leases)).toBe('0\n');
        expect(await redisCli(replica.port, 'zcard', leases)).toBe('1\n');

        // Back in sync, the next acquire of the licence (concurrency 1) is admitted.
        await attach();
        await waitFor('the slot free on the replica', 10_000, async () =>
          (await redisCli(replica.port, 'zcard', leases)) === '0\n' ? true : undefined,
        );
        await (await gate.acquire(subject, plan({ concurrency: 1 }))).release('signed');
        expect(reported).toHaveLength(1);
      } finally {
        await connection.close();
      }
    }, 30_000);
  });

  describe('when leaseSeconds is not positive', () => {
    it('throws a RangeError', () => {
      expect(() => new RedisQuotaGate({ connection: redis.a, leaseSeconds: 0 })).toThrow(RangeError);
    });
  });
});
