import { randomUUID } from 'node:crypto';
import {
  SignerError,
  type Clock,
  type PlanLimits,
  type QuotaGate,
  type QuotaLease,
  type QuotaSubject,
} from '@signer/core';
import type Redis from 'ioredis';
import { DEFAULT_QUOTA_LEASE_SECONDS } from '../memory/memory-quota-gate';
import { bucketCapacity, limitValue } from '../memory/quota-math';
import { requirePositiveNumber } from '../options';
import type { RedisConnection } from './redis-connection';
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

type AcquireReply = [1, number, number] | [0, string, number, number];

interface QuotaCommands {
  signerQuotaAcquire(...args: Array<string | number>): Promise<AcquireReply>;
  signerQuotaRelease(...args: Array<string | number>): Promise<number>;
}

/** Curly braces make both keys of a licence one hash slot (Redis Cluster); the parts are escaped. */
function licenceTag(subject: QuotaSubject): string {
  return `{${encodeURIComponent(subject.tenant)}:${encodeURIComponent(subject.licenseId)}}`;
}

function commands(client: Redis): QuotaCommands {
  // defineCommand sends EVALSHA and falls back to EVAL once per connection (NOSCRIPT).
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
 * Redis unreachable is `upstream_unavailable` (fail closed), never an allow.
 */
export class RedisQuotaGate implements QuotaGate {
  private readonly leaseMs: number;

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
    const reply = await connection.run('quota acquire', (client) =>
      commands(client).signerQuotaAcquire(
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
    );
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
    const { connection, onReleaseError } = this.options;
    let released = false;
    return {
      qpsRemaining,
      release: async (outcome) => {
        if (released) return;
        released = true;
        try {
          await connection.run('quota release', (client) =>
            commands(client).signerQuotaRelease(keys.state, keys.leases, leaseId, outcome, day),
          );
        } catch (error) {
          // The decision has already been made (and a signature maybe returned): a release that
          // cannot reach Redis must not turn it into a refusal. The lease expiry frees the slot;
          // a lost refund leaves the daily count one higher (fail closed).
          onReleaseError?.(error);
        }
      },
    };
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
