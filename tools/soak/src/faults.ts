import type { Caller } from './callers';
import type { Ledger } from './ledger';
import type { QuotaWatch } from './quota-watch';
import type { SignerReplica } from './replicas';
import type { SoakSettings } from './settings';
import { SlowClients } from './slow-clients';
import type { SoakTopology } from './topology';
import { UPSTREAM_TIMEOUT_MS } from './topology';
import type { Traffic } from './traffic';
import { sleep, waitFor } from './wait';

/** What a fault breaks; a request that does not use it may still be served during the fault. */
export type Upstream =
  'redis' | 'postgres' | 'licensing' | 'registry' | 'kms' | 'fulcio' | 'replica' | 'none';

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
    simple(
      'redis-restart',
      'redis',
      async () => {
        watch.detach();
        await topology.redis.crash();
      },
      async () => {
        await topology.redis.restart();
        await watch.attach();
      },
    ),
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
