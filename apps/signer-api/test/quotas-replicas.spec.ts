import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DpopKey } from '@signer/client';
import {
  generateEmbeddedProfile,
  type DevAuthority,
  type DevLicensing,
  type EmbeddedProfile,
} from '@signer/dev';
import {
  freePort,
  privateSignerBundle,
  QuotaTrace,
  SHARED_REDIS,
  SHARED_REDIS_URL,
  SignerProcess,
  TcpProxy,
  type PrivateBundle,
  type TracedLimits,
} from '@signer/testing';
import Redis from 'ioredis';
import { newCaller, postSign, profileParties, validBody } from './harness';
import { deleteKeys } from './redis-harness';

const LIMITS = { qps: 20, burst: 20, concurrency: 4 };
const LOAD = 200;
/**
 * Callers for the exact-count run: enough to outpace 20/s, and no more than the 4 slots, so the
 * count depends on the bucket alone (a slot-refused attempt leaves its token for later).
 */
const WORKERS = 4;
/** Callers for the contention run: far more than the 4 slots. */
const CONTENDING_WORKERS = 24;
/** Every replica's Redis link is this slow, so leases are held long enough to contend. */
const LINK_DELAY_MS = 20;
const LEASE_SECONDS = 5;

/** One of the three processes, by name. */
interface Replica {
  name: string;
  signer: SignerProcess;
}

interface Outcome {
  replica: string;
  status: number;
  code?: string;
  detail?: string;
}

describe('quotas.store: redis shared by three signer processes (real Redis)', () => {
  const prefix = `signer-test:${randomUUID()}:`;
  let service: PrivateBundle | undefined;
  const profileDir = mkdtempSync(join(tmpdir(), 'signer-replicas-'));
  const replicas: Replica[] = [];
  const proxies: TcpProxy[] = [];
  const redis = new Redis(SHARED_REDIS_URL);
  let monitor: Awaited<ReturnType<Redis['monitor']>>;
  const traces: QuotaTrace[] = [];
  let profile: EmbeddedProfile;
  let authority: DevAuthority;
  let licensing: DevLicensing;

  const keysOf = (licenseId: string) => {
    const tag = `{${encodeURIComponent(profile.tenant)}:${encodeURIComponent(licenseId)}}`;
    return { state: `${prefix}quota:${tag}:state`, leases: `${prefix}quota:${tag}:leases` };
  };
  const trace = (licenseId: string, limits: TracedLimits) => {
    const created = new QuotaTrace(keysOf(licenseId), limits, LEASE_SECONDS * 1000);
    traces.push(created);
    return created;
  };
  const poeFor = (licenseId: string, limits: Record<string, number>) =>
    licensing.mintPoe({
      license_id: licenseId,
      tenant: profile.tenant,
      installation: profile.installation,
      plan: 'pro',
      valid_release_year: 2030,
      max_version: '1.99.99',
      limits,
    });
  const freshCaller = () => newCaller(authority, profile);
  const sign = async (
    replica: Replica,
    poe: string,
    caller: { key: DpopKey; token: string },
  ): Promise<Outcome> => {
    const response = await postSign(replica.signer.url, caller, validBody({ profile, poe }));
    const body = (await response.json()) as { code?: string; detail?: string };
    return { replica: replica.name, status: response.status, code: body.code, detail: body.detail };
  };

  beforeAll(async () => {
    const [bundle, generated] = await Promise.all([
      privateSignerBundle('quotas-replicas'),
      generateEmbeddedProfile(profileDir, { nonce: 'optional', stateStore: 'memory' }),
    ]);
    [service, profile] = [bundle, generated];
    ({ authority, licensing } = await profileParties(profile));
    monitor = await redis.monitor();
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      for (const t of traces) t.observe(args, source);
    });
    const names = ['a', 'b', 'c'];
    const started = await Promise.all(
      names.map(async (name) => {
        const proxy = await TcpProxy.start(SHARED_REDIS);
        proxy.delayMs = LINK_DELAY_MS;
        proxies.push(proxy);
        const port = await freePort();
        const signer = await SignerProcess.start({
          bundle: bundle.main,
          port,
          auditFile: join(profileDir, 'audit', `${name}.jsonl`),
          readyPath: '/healthz',
          stdout: 'drain',
          env: {
            SIGNER_CONFIG: profile.configPath,
            SIGNER__SERVER__PUBLICBASEURL: `http://127.0.0.1:${port}`,
            SIGNER__QUOTAS__STORE: 'redis',
            SIGNER__QUOTAS__REDISURL: proxy.url('redis'),
            SIGNER__QUOTAS__REDISKEYPREFIX: JSON.stringify(prefix),
            SIGNER__QUOTAS__LEASESECONDS: String(LEASE_SECONDS),
          },
        });
        return { name, signer };
      }),
    );
    replicas.push(...started);
    // Warm every replica (JIT, key imports, release verdict) so the measured runs start hot: a
    // cold start would leave the first tokens of the bucket idle at its cap.
    const warmPoe = await poeFor('lic-warmup', { qps: 1000, burst: 1000, concurrency: 100 });
    const warmCaller = await freshCaller();
    for (let round = 0; round < 5; round += 1)
      await Promise.all(replicas.map((replica) => sign(replica, warmPoe, warmCaller)));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.signer.stop()));
    await Promise.all(proxies.map((proxy) => proxy.close()));
    monitor?.disconnect();
    await deleteKeys(redis, prefix);
    redis.disconnect();
    service?.remove();
    rmSync(profileDir, { recursive: true, force: true });
  }, 60_000);

  /** Sends LOAD requests for one PoE from `workers` callers, round-robin over the replicas. */
  const load = async (poe: string, workers: number): Promise<Outcome[]> => {
    const callers = await Promise.all(Array.from({ length: workers }, freshCaller));
    const outcomes: Outcome[] = [];
    let next = 0;
    await Promise.all(
      callers.map(async (caller) => {
        for (let i = next++; i < LOAD; i = next++) outcomes.push(await sign(replicas[i % 3], poe, caller));
      }),
    );
    return outcomes;
  };
  /** MONITOR lines arrive asynchronously: wait (bounded) until the trace has seen every admission. */
  const settle = async (leases: QuotaTrace, admitted: number) => {
    for (let wait = 0; wait < 100 && leases.added.length < admitted; wait += 1)
      await new Promise((resolve) => setTimeout(resolve, 20));
  };

  /** Outcomes must be 200 or a fail-closed refusal; reports them for the log. */
  const summarise = (label: string, leases: QuotaTrace, outcomes: Outcome[]) => {
    const admitted = outcomes.filter((o) => o.status === 200);
    const refused = outcomes.filter((o) => o.status !== 200);
    console.info(
      `${label}: ${admitted.length} of ${LOAD} admitted (model ${leases.modelAdmits}, leases granted ` +
        `${leases.added.length}) over ${((leases.lastAttemptAt - leases.firstAttemptAt) / 1000).toFixed(3)} s ` +
        `of Redis time (bucket allows ${leases.bucketAllows.toFixed(2)}), max ${leases.maxLive} leases live, ` +
        `refusals ${JSON.stringify(countBy(refused.map(limitOf)))}`,
    );
    expect(outcomes).toHaveLength(LOAD);
    // A 503 is the fail-closed answer when a replica's Redis command times out under load.
    expect(
      refused.every(
        (o) =>
          (o.status === 429 && o.code === 'plan_throttled') ||
          (o.status === 503 && o.code === 'upstream_unavailable'),
      ),
    ).toBe(true);
    return { admitted, refused };
  };

  describe('when 200 requests for one licence (qps 20, burst 20, concurrency 4) hit the three replicas', () => {
    it('admits exactly what one token bucket allows for the same attempts, each 200 holding a lease', async () => {
      proxies.forEach((proxy) => (proxy.delayMs = 0));
      const leases = trace('lic-replicas', LIMITS);
      const outcomes = await load(await poeFor('lic-replicas', LIMITS), WORKERS);
      await settle(leases, outcomes.filter((o) => o.status === 200).length);
      const { admitted, refused } = summarise('replicas, qps-bound', leases, outcomes);

      expect(new Set(admitted.map((o) => o.replica))).toEqual(new Set(['a', 'b', 'c']));
      // No 200 without a lease; a lease without a 200 only when a replica gave up on Redis (503).
      const gaveUp = refused.filter((o) => o.status === 503).length;
      expect(leases.attempts).toBeGreaterThanOrEqual(LOAD - gaveUp);
      expect(leases.added).toHaveLength(leases.modelAdmits);
      expect(admitted.length).toBeLessThanOrEqual(leases.added.length);
      expect(admitted.length).toBeGreaterThanOrEqual(leases.added.length - gaveUp);
      expect(leases.added.length).toBeLessThanOrEqual(Math.floor(leases.bucketAllows + 1e-6));
      expect(leases.maxLive).toBeLessThanOrEqual(LIMITS.concurrency);
    }, 120_000);
  });

  describe('when 24 callers contend for the same licence over slow Redis links', () => {
    it('never has more than 4 leases alive, and admits exactly what the model allows', async () => {
      proxies.forEach((proxy) => (proxy.delayMs = LINK_DELAY_MS));
      const leases = trace('lic-contended', LIMITS);
      const outcomes = await load(await poeFor('lic-contended', LIMITS), CONTENDING_WORKERS);
      await settle(leases, outcomes.filter((o) => o.status === 200).length);
      const { admitted, refused } = summarise('replicas, contended', leases, outcomes);

      expect(leases.maxLive).toBe(LIMITS.concurrency);
      expect(leases.added).toHaveLength(leases.modelAdmits);
      const gaveUp = refused.filter((o) => o.status === 503).length;
      expect(admitted.length).toBeLessThanOrEqual(leases.added.length);
      expect(admitted.length).toBeGreaterThanOrEqual(leases.added.length - gaveUp);
      expect(leases.added.length).toBeLessThanOrEqual(Math.floor(leases.bucketAllows + 1e-6));
      expect(refused.some((o) => limitOf(o) === 'concurrency')).toBe(true);
    }, 120_000);
  });

  describe('when a replica is killed with SIGKILL while it holds a slot', () => {
    it('keeps the slot taken until its lease expires, then any replica gets it', async () => {
      const leases = trace('lic-kill', { qps: 100, burst: 100, concurrency: 1 });
      const keys = keysOf('lic-kill');
      const poe = await poeFor('lic-kill', { qps: 100, burst: 100, concurrency: 1 });
      const caller = await freshCaller();
      const [victim, survivor] = [replicas[0], replicas[1]];
      proxies.forEach((proxy) => (proxy.delayMs = 0));
      proxies[0].delayMs = 400;

      const doomed = sign(victim, poe, caller).catch(() => undefined);
      let held: string[] = [];
      for (let attempt = 0; attempt < 1500 && held.length === 0; attempt += 1) {
        held = await redis.zrange(keys.leases, 0, -1, 'WITHSCORES');
        if (held.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(held).toHaveLength(2);
      await victim.signer.kill();
      await doomed;
      const [deadLease, deadExpiry] = [held[0], Number(held[1])];

      const refusals: Outcome[] = [];
      let admitted: Outcome | undefined;
      for (let attempt = 0; attempt < 60 && !admitted; attempt += 1) {
        const outcome = await sign(survivor, poe, caller);
        if (outcome.status === 200) admitted = outcome;
        else {
          refusals.push(outcome);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
      expect(admitted).toBeDefined();
      const slotRefusals = refusals.filter((o) => o.status === 429 && limitOf(o) === 'concurrency');
      expect(slotRefusals.length).toBeGreaterThan(0);
      // Under a loaded machine a replica may also fail closed on a slow Redis command (503).
      expect(refusals.every((o) => o.status === 429 || o.code === 'upstream_unavailable')).toBe(true);
      for (let wait = 0; wait < 100 && leases.added.length < 2; wait += 1)
        await new Promise((resolve) => setTimeout(resolve, 20));
      // In Redis time: every attempt before the dead lease expired was refused, the first one at or
      // after it was granted, and the dead lease is gone.
      const granted = leases.added.find((lease) => lease.id !== deadLease);
      expect(granted).toBeDefined();
      expect((granted as { at: number }).at).toBeGreaterThanOrEqual(deadExpiry);
      const after = leases.attemptTimes.filter((at) => at >= deadExpiry);
      expect(after).toEqual([(granted as { at: number }).at]);
      expect(leases.attemptTimes.filter((at) => at < deadExpiry)).toHaveLength(1 + slotRefusals.length);
      expect(await redis.zscore(keys.leases, deadLease)).toBeNull();
    }, 60_000);
  });
});

function limitOf(outcome: Outcome): string {
  return /\b(qps|concurrency|daily)\b/.exec(outcome.detail ?? '')?.[1] ?? String(outcome.code);
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
