import { randomUUID } from 'node:crypto';
import {
  SignerError,
  type Clock,
  type PlanLimits,
  type QuotaGate,
  type QuotaLease,
  type QuotaSubject,
} from '@signer/core';
import type { ChainableCommander } from 'ioredis';
import { DEFAULT_QUOTA_LEASE_SECONDS } from '../memory/memory-quota-gate';
import { bucketCapacity, limitValue } from '../memory/quota-math';
import { requirePositiveNumber } from '../options';
import type { RedisConnection } from './redis-connection';
import type { RedisClient } from './redis-topology';
import { ACQUIRE_SCRIPT, RELEASE_SCRIPT } from './redis-quota-scripts';

export interface RedisQuotaGateOptions {
  connection: RedisConnection;
  /** How long a concurrency slot may be held before any replica reclaims it without a release. */
  leaseSeconds?: number;
  /**
   * Tests only. By default every decision uses Redis server time (`TIME`), so replicas with
   * skewed clocks share one bucket and one UTC day; a clock here replaces it (manual-clock tests).
   */
  timeSource?: Clock;
  /** Told when a release could not reach Redis (the slot then frees at lease expiry). */
  onReleaseError?: (error: unknown) => void;
}

/** Releases retried in the background at once, at most (each is a timer and a few strings). */
export const MAX_PENDING_RELEASES = 10_000;
const RELEASE_RETRY_FIRST_DELAY_MS = 250;
const RELEASE_RETRY_MAX_DELAY_MS = 2000;

type AcquireReply = [1, number, number] | [0, string, number, number];

interface QuotaCommands {
  /** On the client: the reply; on a pipeline: the pipeline (its reply comes from exec). */
  signerQuotaAcquire(...args: Array<string | number>): Promise<AcquireReply> | ChainableCommander;
  signerQuotaRelease(...args: Array<string | number>): Promise<number>;
}

/**
 * Curly braces make both keys of a licence one hash slot (Redis Cluster): the scripts touch only
 * `KEYS[1]` and `KEYS[2]`, so each runs on the one master of its licence. The parts are escaped
 * (`encodeURIComponent` leaves no brace), so no tenant can pick another licence's slot tag.
 */
function licenceTag(subject: QuotaSubject): string {
  return `{${encodeURIComponent(subject.tenant)}:${encodeURIComponent(subject.licenseId)}}`;
}

function commands(client: RedisClient): QuotaCommands {
  // defineCommand sends EVAL on a socket's first use and EVALSHA after, so every Cluster node
  // (and a promoted replica's new socket) learns the script on its own; pipelines copy them.
  if (!('signerQuotaAcquire' in client)) {
    client.defineCommand('signerQuotaAcquire', { numberOfKeys: 2, lua: ACQUIRE_SCRIPT });
    client.defineCommand('signerQuotaRelease', { numberOfKeys: 2, lua: RELEASE_SCRIPT });
  }
  return client as unknown as QuotaCommands;
}

/**
 * {@link QuotaGate} shared by every replica: token bucket, leased concurrency slots and the UTC
 * daily cap for one (tenant, licence), each decided by one atomic Lua script — no
 * read-modify-write from Node. Same semantics as `MemoryQuotaGate` (one conformance suite).
 * Redis unreachable is `upstream_unavailable` (fail closed), never an allow. With
 * `minReplicaAcks` an admission is granted only once replicas hold it, so a failover cannot hand
 * the promoted replica a count lower than the admissions already made.
 */
export class RedisQuotaGate implements QuotaGate {
  private readonly leaseMs: number;
  private pendingReleases = 0;

  constructor(private readonly options: RedisQuotaGateOptions) {
    this.leaseMs =
      requirePositiveNumber('leaseSeconds', options.leaseSeconds ?? DEFAULT_QUOTA_LEASE_SECONDS) * 1000;
  }

  /** The keys of one licence's state, for operators and tests. */
  keys(subject: QuotaSubject): { state: string; leases: string } {
    const { connection } = this.options;
    const tag = licenceTag(subject);
    return { state: connection.key('quota', tag, 'state'), leases: connection.key('quota', tag, 'leases') };
  }

  async acquire(subject: QuotaSubject, limits: PlanLimits): Promise<QuotaLease> {
    const { connection, timeSource } = this.options;
    const keys = this.keys(subject);
    const leaseId = randomUUID();
    commands(connection.client);
    let reply: AcquireReply;
    try {
      reply = await connection.runDurable<AcquireReply>(
        'quota acquire',
        (target) =>
          (target as unknown as QuotaCommands).signerQuotaAcquire(
            keys.state,
            keys.leases,
            timeSource ? timeSource.now().getTime() : '',
            limitValue(limits.qps),
            bucketCapacity(limits),
            limitValue(limits.concurrency),
            limitValue(limits.dailyCap),
            this.leaseMs,
            leaseId,
          ),
        // Not acknowledged by enough replicas: the caller is refused, so the unit goes back.
        async (admitted) => {
          if (admitted[0] === 1) await this.lease(keys, leaseId, admitted[2], 0).release('failed');
        },
      );
    } catch (error) {
      // The script may have admitted before the failure (a lost reply, too few replica acks): free
      // that slot once Redis answers. The daily unit stays spent — a refusal never refunds one.
      void this.lease(keys, leaseId, -1, 0).release('signed');
      throw error;
    }
    if (reply[0] !== 1) throw throttled(reply, limits);
    const [, qpsRemaining, day] = reply;
    return this.lease(keys, leaseId, day, qpsRemaining);
  }

  private lease(
    keys: { state: string; leases: string },
    leaseId: string,
    day: number,
    qpsRemaining: number,
  ): QuotaLease {
    let released = false;
    return {
      qpsRemaining,
      release: async (outcome) => {
        if (released) return;
        released = true;
        const error = await this.tryRelease(keys, leaseId, outcome, day);
        if (error === undefined) return;
        // The decision has already been made (and a signature maybe returned): a release that
        // cannot reach Redis must not turn it into a refusal. A lost refund leaves the daily count
        // one higher (fail closed); the slot is released again in the background (see below).
        this.options.onReleaseError?.(error);
        this.retryRelease(keys, leaseId, outcome, day);
      },
    };
  }

  private async tryRelease(
    keys: { state: string; leases: string },
    leaseId: string,
    outcome: 'signed' | 'failed',
    day: number,
  ): Promise<unknown> {
    commands(this.options.connection.client);
    try {
      // Durable like the acquire: a release the master answered but had not yet replicated when it
      // died would leave the promoted replica holding the slot until the lease expires (a licence
      // with concurrency 1 throttled for leaseSeconds). Not acknowledged is retried (see below);
      // the script removes a lease once per master, so a retry never refunds twice.
      await this.options.connection.runDurable('quota release', (target) =>
        (target as unknown as QuotaCommands).signerQuotaRelease(
          keys.state,
          keys.leases,
          leaseId,
          outcome,
          day,
        ),
      );
      return undefined;
    } catch (error) {
      return error;
    }
  }

  /**
   * A release lost in a failover (or an acquire whose reply was lost) would hold its slot until the
   * lease expires — a licence with a small concurrency limit could be throttled that long after
   * Redis is back. So it is retried with backoff while the lease could still be held; the script
   * refunds only a lease it still finds, so a retry never refunds twice. Bounded: past
   * {@link MAX_PENDING_RELEASES} the lease expiry alone frees the slot.
   */
  private retryRelease(
    keys: { state: string; leases: string },
    leaseId: string,
    outcome: 'signed' | 'failed',
    day: number,
  ): void {
    if (this.pendingReleases >= MAX_PENDING_RELEASES) return;
    this.pendingReleases += 1;
    const giveUpAt = Date.now() + this.leaseMs;
    const attempt = (delayMs: number) => {
      const timer = setTimeout(async () => {
        const error = await this.tryRelease(keys, leaseId, outcome, day);
        if (error === undefined || Date.now() + delayMs > giveUpAt) {
          this.pendingReleases -= 1;
          return;
        }
        attempt(Math.min(delayMs * 2, RELEASE_RETRY_MAX_DELAY_MS));
      }, delayMs);
      timer.unref();
    };
    attempt(RELEASE_RETRY_FIRST_DELAY_MS);
  }
}

function throttled(reply: [0, string, number, number], limits: PlanLimits): SignerError {
  const [, limit, retryAfterSeconds, observed] = reply;
  const messages: Record<string, string> = {
    daily: `daily cap reached: expected at most ${limitValue(limits.dailyCap)} signings per UTC day, ${observed} used`,
    concurrency: `concurrency limit reached: expected at most ${limitValue(limits.concurrency)} in-flight signings, ${observed} in flight`,
    qps: `qps limit reached: expected a whole token, got ${(observed / 1000).toFixed(3)} of ${bucketCapacity(limits)}`,
  };
  return new SignerError('plan_throttled', messages[limit] ?? `${limit} limit reached`, {
    limit,
    retryAfterSeconds,
  });
}
