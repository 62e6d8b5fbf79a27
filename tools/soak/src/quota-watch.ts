import { QuotaTrace } from '@signer/testing';
import Redis from 'ioredis';
import { LEASE_SECONDS, QUOTA_LIMITS, REDIS_PREFIX } from './topology';

/** One Redis lifetime: a restart loses every counter and lease, so the model starts again. */
export interface QuotaSegment {
  trace: QuotaTrace;
  startedAt: number;
  endedAt?: number;
}

/**
 * Watches the quota tenant's licence in the soak's private Redis through MONITOR (Redis's own
 * serial order of every script command) and replays it against the reference model. A new
 * segment starts with every Redis restart, and on a cluster with every master failover (MONITOR
 * then follows the licence's slot to its new master).
 */
export class QuotaWatch {
  readonly segments: QuotaSegment[] = [];
  private monitor: Awaited<ReturnType<Redis['monitor']>> | undefined;
  private client: Redis | undefined;

  constructor(
    /** Where the licence's keys live now (the one server, or its slot's master). */
    private readonly locate: (key: string) => Promise<string>,
    private readonly tenant: string,
    private readonly licenseId: string,
  ) {}

  /** The licence's keys, spelt as the Redis quota gate spells them. */
  get keys(): { state: string; leases: string } {
    const tag = `{${encodeURIComponent(this.tenant)}:${encodeURIComponent(this.licenseId)}}`;
    return { state: `${REDIS_PREFIX}quota:${tag}:state`, leases: `${REDIS_PREFIX}quota:${tag}:leases` };
  }

  /** (Re)attaches once Redis (re)started, before the replicas reconnect (they retry every ≤ 1 s). */
  async attach(): Promise<void> {
    this.detach();
    this.client = new Redis(await this.locate(this.keys.state), {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    this.client.on('error', () => undefined);
    await this.client.connect();
    const trace = new QuotaTrace(this.keys, QUOTA_LIMITS, LEASE_SECONDS * 1000);
    this.segments.push({ trace, startedAt: Date.now() });
    this.monitor = await this.client.monitor();
    this.monitor.on('error', () => undefined);
    this.monitor.on('monitor', (_time: string, args: string[], source: string) =>
      trace.observe(args, source),
    );
  }

  /** Lease ids of the licence that are live right now (not yet expired). */
  async heldLeases(): Promise<string[]> {
    return (await this.client?.zrangebyscore(this.keys.leases, Date.now(), '+inf')) ?? [];
  }

  /** Ends the current segment (Redis is about to be killed, or the run is over). */
  detach(): void {
    const current = this.segments[this.segments.length - 1];
    if (current && current.endedAt === undefined) current.endedAt = Date.now();
    this.monitor?.disconnect();
    this.client?.disconnect();
    this.monitor = undefined;
    this.client = undefined;
  }
}
