import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RedisClusterProcesses } from '@signer/testing';
import { plan } from '../../test/quota-gate-conformance';
import { driveQuotaLoad, until, whenAnswering } from '../../test/quota-load';
import { connectReplicas } from '../../test/redis-replicas';
import { RedisConnection } from './redis-connection';
import { RedisQuotaGate } from './redis-quota-gate';
import { RedisReplayCache } from './redis-replay-cache';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A master of a Redis Cluster is killed (SIGKILL) while two Signer replicas load a licence whose
 * slot it owns; its replica is promoted after the node timeout (1 s here). Every write waits for
 * one replica (`minReplicaAcks: 1`), so the promoted replica holds every admission already made.
 */
describe('Redis Cluster master failover (real processes)', () => {
  let cluster: RedisClusterProcesses;
  let a: RedisConnection;
  let b: RedisConnection;

  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start({ replicas: true });
    [a, b] = await connectReplicas({
      topology: { mode: 'cluster', nodes: cluster.seeds },
      minReplicaAcks: 1,
    });
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await cluster?.stop();
  });

  it('refuses with upstream_unavailable while the slot has no master, then admits again, never past the daily cap', async () => {
    const gate = new RedisQuotaGate({ connection: a });
    const gates = [gate, new RedisQuotaGate({ connection: b })];
    const subject = { tenant: `failover-${randomUUID()}`, licenseId: 'lic-1' };
    const keys = gate.keys(subject);
    const limits = plan({ qps: 10_000, burst: 10_000, concurrency: 4, dailyCap: 400 });
    // Replay entries written before the failover, in slots of the master about to die.
    const replay = new RedisReplayCache(a);
    const owner = await cluster.slotOwnerOf(keys.state);
    const remembered: string[] = [];
    while (remembered.length < 10) {
      const jti = `jti-${randomUUID()}`;
      if ((await cluster.slotOwnerOf(a.key('replay', jti))) !== owner) continue;
      expect(await replay.firstSeen(jti, 300)).toBe(true);
      remembered.push(jti);
    }

    const marks = { killed: -1, dead: -1, promoted: -1, replicaBack: -1 };
    const started = Date.now();
    let admittedSoFar = 0;
    const load = driveQuotaLoad({
      gates,
      subject,
      limits,
      workers: 6,
      stop: (r) => (r.refusals.get('plan_throttled:daily') ?? 0) > 0 || Date.now() - started > 40_000,
      onAdmitted: (count) => (admittedSoFar = count),
    });
    const fault = (async () => {
      // Under way, and far from the cap: admissions must resume after the failover to reach it.
      await until(() => admittedSoFar >= 100);
      marks.killed = Date.now() - started;
      await cluster.killMaster(owner);
      marks.dead = Date.now() - started;
      await cluster.waitForFailover(keys.state, owner);
      marks.promoted = Date.now() - started;
      // The promoted replica has no replica of its own: with minReplicaAcks 1 its slots refuse
      // writes until the operator's restart brings the dead node back as its replica.
      await cluster.restart(owner);
      marks.replicaBack = Date.now() - started;
    })();
    const [result] = await Promise.all([load, fault]);
    const admittedAt = result.events.filter((e) => e.outcome === 'admitted').map((e) => e.atMs);
    const unavailableAt = result.events
      .filter((e) => e.outcome === 'upstream_unavailable')
      .map((e) => e.atMs);
    const resumedAt = Math.min(...admittedAt.filter((at) => at > marks.dead));
    process.stdout.write(
      `cluster failover: ${JSON.stringify({ ...marks, resumedAt, admitted: result.admitted })}\n`,
    );

    expect(marks.replicaBack).toBeGreaterThan(0);
    await whenAnswering(() => Promise.all([a.ping(), b.ping()]));
    expect(result.unexpected).toEqual([]);
    // Refusals: the concurrency limit (6 callers, 4 slots), the daily cap at the end, and
    // upstream_unavailable in the failover window only.
    expect([...result.refusals.keys()]).toEqual(
      expect.arrayContaining(['plan_throttled:daily', 'upstream_unavailable']),
    );
    expect(
      [...result.refusals.keys()].filter(
        (code) =>
          !['plan_throttled:daily', 'plan_throttled:concurrency', 'upstream_unavailable'].includes(code),
      ),
    ).toEqual([]);
    // No admission between the kill and the replica's return; none refused as unavailable before.
    expect(Math.min(...unavailableAt)).toBeGreaterThanOrEqual(marks.killed);
    expect(admittedAt.some((at) => at < marks.killed)).toBe(true);
    expect(admittedAt.filter((at) => at > marks.dead && at < marks.promoted)).toEqual([]);
    expect(resumedAt).toBeGreaterThan(marks.promoted);
    expect(Math.max(...unavailableAt)).toBeLessThan(Math.max(...admittedAt));
    // Never more than the plan; the promoted master counts every admission (and maybe units
    // spent by acquires refused for lack of a replica ack: fail closed).
    expect(result.admitted).toBeLessThanOrEqual(400);
    const used = Number(await a.client.hget(keys.state, 'used'));
    expect(used).toBe(400);
    expect(result.admitted).toBeGreaterThan(300);

    // The promoted replica still knows every replay entry acknowledged before the kill.
    for (const jti of remembered) await expect(replay.firstSeen(jti, 300)).resolves.toBe(false);
  }, 60_000);

  describe('with minReplicaAcks 0 (trusting the master alone)', () => {
    it('admits again once the replica is promoted, refusing only with upstream_unavailable between', async () => {
      const trusting = new RedisConnection({ topology: { mode: 'cluster', nodes: cluster.seeds } });
      await trusting.connect();
      try {
        const gate = new RedisQuotaGate({ connection: trusting });
        const subject = { tenant: `trusting-${randomUUID()}`, licenseId: 'lic-1' };
        const owner = await cluster.slotOwnerOf(gate.keys(subject).state);
        const marks = { dead: -1, promoted: -1 };
        const started = Date.now();
        let resumed = false;
        const load = driveQuotaLoad({
          gates: [gate],
          subject,
          limits: plan({ qps: 10_000, burst: 10_000, concurrency: 4, dailyCap: 100_000 }),
          workers: 4,
          stop: (r) =>
            Date.now() - started > 30_000 ||
            (marks.promoted > 0 && r.events.some((e) => e.outcome === 'admitted' && e.atMs > marks.promoted)),
        });
        const fault = (async () => {
          await sleep(200);
          await cluster.killMaster(owner);
          marks.dead = Date.now() - started;
          await cluster.waitForFailover(gate.keys(subject).state, owner);
          marks.promoted = Date.now() - started;
        })();
        const [result] = await Promise.all([load, fault]);
        const resumedAt = Math.min(
          ...result.events.filter((e) => e.outcome === 'admitted' && e.atMs > marks.dead).map((e) => e.atMs),
        );
        resumed = Number.isFinite(resumedAt);
        process.stdout.write(
          `cluster failover, acks 0: ${JSON.stringify({ ...marks, resumedAt, refusals: [...result.refusals] })}\n`,
        );

        expect(resumed).toBe(true);
        expect(result.unexpected).toEqual([]);
        // Calls that wait out the failover longer than the connection's deadline are refused.
        expect(
          [...result.refusals.keys()].filter(
            (code) => !['plan_throttled:concurrency', 'upstream_unavailable'].includes(code),
          ),
        ).toEqual([]);
      } finally {
        await trusting.close();
      }
    }, 60_000);
  });
});
