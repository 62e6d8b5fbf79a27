import type { RedisClusterProcesses } from '@signer/testing';
import type { Caller } from './callers';
import type { Ledger } from './ledger';
import type { QuotaWatch } from './quota-watch';
import type { SignerReplica } from './replicas';
import type { SoakSettings } from './settings';
import { SlowClients } from './slow-clients';
import type { SoakTopology } from './topology';
import { LEASE_SECONDS, UPSTREAM_TIMEOUT_MS } from './topology';
import type { Traffic } from './traffic';
import { sleep, waitFor } from './wait';

/**
 * What a fault breaks; a request that does not use it may still be served during the fault.
 * `redis-shard` is one master of a Redis Cluster: a request whose keys all live on other masters
 * is served, one that needs the failed slots is refused (503) until its replica takes over.
 */
export type Upstream =
  'redis' | 'redis-shard' | 'postgres' | 'licensing' | 'registry' | 'kms' | 'fulcio' | 'replica' | 'none';

export interface Fault {
  name: string;
  upstream: Upstream;
  /** The replica a fault takes down (SIGKILL) or targets (slow clients). */
  victim?: string;
  durationMs: number;
  inject(): Promise<void>;
  clear(): Promise<void>;
  /** Figures worth reporting about the fault itself. */
  notes(): string[];
}

export interface FaultContext {
  settings: SoakSettings;
  topology: SoakTopology;
  traffic: Traffic;
  ledger: Ledger;
  watch: QuotaWatch;
  /** A quota-tenant caller used only to catch the victim holding a slot. */
  slotHolder: Caller;
}

/** The faults of issue #8, in the order they are injected. */
export function soakFaults(context: FaultContext): Fault[] {
  const { settings, topology, traffic, watch } = context;
  const duration = settings.faultSeconds * 1000;
  const [first, , last] = topology.replicas;
  const simple = (
    name: string,
    upstream: Upstream,
    inject: () => unknown,
    clear: () => unknown,
    durationMs = duration,
  ): Fault => ({
    name,
    upstream,
    durationMs,
    inject: async () => void (await inject()),
    clear: async () => void (await clear()),
    notes: () => [],
  });
  let slow: SlowClients | undefined;
  let slotNote = '';
  return [
    topology.cluster ? masterFailover(context, topology.cluster) : redisRestart(context),
    simple(
      'postgres-stopped',
      'postgres',
      () => topology.pgProxy.cut(),
      () => topology.pgProxy.restore(),
      settings.pgOutageSeconds * 1000,
    ),
    simple(
      'licensing-timeouts',
      'licensing',
      () => topology.licensing.failAll({ kind: 'slow', delayMs: UPSTREAM_TIMEOUT_MS * 3 }),
      () => topology.licensing.failAll(undefined),
    ),
    simple(
      'licensing-500s',
      'licensing',
      () => topology.licensing.failAll({ kind: 'status', status: 500 }),
      () => topology.licensing.failAll(undefined),
    ),
    simple(
      'registry-down',
      'registry',
      () => topology.registryProxy.cut(),
      () => topology.registryProxy.restore(),
    ),
    simple(
      'kms-throttling',
      'kms',
      () => topology.kms.failEveryRequest('ThrottlingException'),
      () => topology.kms.failEveryRequest(undefined),
    ),
    simple(
      'fulcio-5xx',
      'fulcio',
      () => topology.fulcio.failAll(503),
      () => topology.fulcio.failAll(undefined),
    ),
    {
      name: 'replica-sigkill',
      upstream: 'replica',
      victim: last.name,
      durationMs: duration,
      inject: async () => {
        slotNote = await killHoldingSlot(context, last);
      },
      clear: () => last.start(),
      notes: () => [slotNote],
    },
    {
      name: 'slow-client',
      upstream: 'none',
      victim: first.name,
      durationMs: duration,
      inject: async () => {
        slow = SlowClients.hold(first.port, settings.slowClients);
        await waitFor(() => (slow?.opened ?? 0) >= settings.slowClients, { timeoutMs: 5000 });
      },
      clear: async () => {
        slow?.release();
        // Held requests are requests too: a server that audits the aborted ones must find them.
        for (const held of slow?.requests ?? [])
          context.ledger.add({
            id: held.id,
            op: context.ledger.newOp(),
            step: 0,
            kind: 'slow-client',
            replica: first.name,
            tenant: '-',
            start: held.start,
            end: Date.now(),
            status: 0,
            transportError: 'held open by the slow client, then dropped',
          });
      },
      notes: () => [
        `${slow?.opened ?? 0} slow connections held on replica ${first.name}, ${slow?.closedByServer ?? 0} closed by it early`,
      ],
    },
  ];

  /**
   * Kills `victim` while it holds one of the quota tenant's slots: the other quota callers pause,
   * the victim gets a few signings, and it is frozen (SIGSTOP) the moment Redis shows a live lease,
   * then killed. The orphaned slot must free itself when its lease expires.
   */
  async function killHoldingSlot(ctx: FaultContext, victim: SignerReplica): Promise<string> {
    ctx.traffic.quotaPaused = true;
    await sleep(300);
    try {
      for (let attempt = 1; attempt <= 20; attempt += 1) {
        const inflight = Array.from({ length: 2 }, () => traffic.signOnce(ctx.slotHolder, victim));
        const seen = await waitFor(async () => (await watch.heldLeases()).length > 0, {
          timeoutMs: 3000,
          intervalMs: 1,
        });
        if (seen) {
          victim.pause(true);
          const held = await watch.heldLeases();
          if (held.length > 0) {
            await victim.kill();
            await Promise.all(inflight);
            return `killed while holding ${held.length} quota slot(s) (attempt ${attempt})`;
          }
          victim.pause(false);
        }
        await Promise.all(inflight);
      }
      await victim.kill();
      return 'killed without catching a held quota slot (20 attempts)';
    } finally {
      ctx.traffic.quotaPaused = false;
    }
  }
}

/** The private redis-server is killed and started again empty (`SOAK_REDIS=standalone`). */
function redisRestart({ settings, topology, watch }: FaultContext): Fault {
  const redis = topology.redis;
  if (!redis) throw new Error('redis-restart needs the standalone private Redis');
  return {
    name: 'redis-restart',
    upstream: 'redis',
    durationMs: settings.faultSeconds * 1000,
    inject: async () => {
      watch.detach();
      await redis.crash();
    },
    clear: async () => {
      await redis.restart();
      await watch.attach();
    },
    notes: () => [],
  };
}

/**
 * `SOAK_REDIS=cluster`: the master that owns the quota licence's slot is killed (SIGKILL); its
 * replica is promoted after the node timeout, and the clear restarts the dead node, which rejoins
 * as the new master's replica (with `minReplicaAcks: 1` that slot refuses writes until then).
 * Quota callers stand still from the kill until every old lease has expired, so the reference
 * model's new segment (on the new master) starts from a state it knows: full bucket, no lease.
 * The promoted master keeps every acknowledged admission; the jest failover test asserts that.
 */
function masterFailover({ settings, traffic, watch }: FaultContext, cluster: RedisClusterProcesses): Fault {
  let owner = 0;
  let killedAt = 0;
  let note = '';
  return {
    name: 'redis-master-failover',
    upstream: 'redis-shard',
    durationMs: settings.faultSeconds * 1000,
    inject: async () => {
      traffic.quotaPaused = true;
      owner = await cluster.slotOwnerOf(watch.keys.state);
      watch.detach();
      killedAt = Date.now();
      await cluster.killMaster(owner);
    },
    clear: async () => {
      try {
        const promoted = await cluster.waitForFailover(watch.keys.state, owner);
        const promotedMs = Date.now() - killedAt;
        await cluster.restart(owner);
        note = `master :${owner} killed; replica :${promoted} promoted after ${promotedMs} ms; the old master back as its replica after ${Date.now() - killedAt} ms`;
        await sleep(Math.max(0, killedAt + LEASE_SECONDS * 1000 + 1000 - Date.now()));
        await watch.attach();
      } finally {
        traffic.quotaPaused = false;
      }
    },
    notes: () => [note],
  };
}
