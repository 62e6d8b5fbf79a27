import { randomUUID } from 'node:crypto';
import type {
  Clock,
  IdempotencyBudget,
  IdempotencyClaim,
  IdempotencyScope,
  IdempotencyStore,
  StoredOutcome,
} from '@signer/core';
import type Redis from 'ioredis';
import {
  doneJson,
  idempotencyLimits,
  pendingJson,
  recordCost,
  type IdempotencyLimits,
  type IdempotencyLimitsOptions,
  type RecordJson,
} from '../memory/idempotency-records';
import type { RedisConnection } from './redis-connection';
import { CLAIM_SCRIPT, COMPLETE_SCRIPT, RELEASE_SCRIPT } from './redis-idempotency-scripts';

export interface RedisIdempotencyStoreOptions extends IdempotencyLimitsOptions {
  connection: RedisConnection;
  /**
   * Tests only. By default every decision uses Redis server time (`TIME`), so replicas with
   * skewed clocks agree on leases and ages; a clock here replaces it (manual-clock tests).
   */
  timeSource?: Clock;
}

type ClaimReply = ['claimed'] | ['exists', string] | ['full', IdempotencyBudget, number, number];
type Script = (...args: Array<string | number>) => Promise<unknown>;

interface IdempotencyCommands {
  signerIdemClaim: Script;
  signerIdemComplete: Script;
  signerIdemRelease: Script;
}

function commands(client: Redis): IdempotencyCommands {
  // defineCommand sends EVALSHA and falls back to EVAL once per connection (NOSCRIPT).
  if (!('signerIdemClaim' in client)) {
    client.defineCommand('signerIdemClaim', { numberOfKeys: 0, lua: CLAIM_SCRIPT });
    client.defineCommand('signerIdemComplete', { numberOfKeys: 0, lua: COMPLETE_SCRIPT });
    client.defineCommand('signerIdemRelease', { numberOfKeys: 0, lua: RELEASE_SCRIPT });
  }
  return client as unknown as IdempotencyCommands;
}

/**
 * Idempotency records in Redis, shared by every replica: claim, completion and release are each
 * one atomic script that also keeps the per-tenant and overall byte accounting, so the budgets
 * hold across replicas. The scripts build their keys from one prefix, so they need every key on
 * one Redis node (a single Redis, as {@link RedisConnection} connects to; not Redis Cluster).
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly limits: IdempotencyLimits;

  constructor(private readonly options: RedisIdempotencyStoreOptions) {
    this.limits = idempotencyLimits(options);
  }

  /** Bytes charged, overall or for one tenant (operators, tests). */
  async usage(tenant?: string): Promise<number> {
    const { connection } = this.options;
    const raw = await connection.run('idempotency usage', (client) =>
      tenant === undefined
        ? client.get(connection.key('idem', 'budget:total'))
        : client.hget(connection.key('idem', 'budget:tenants'), encodeURIComponent(tenant)),
    );
    return Number(raw ?? 0);
  }

  async claim(scope: IdempotencyScope, fingerprint: string): Promise<IdempotencyClaim> {
    const claimId = randomUUID();
    const json = pendingJson(fingerprint, claimId);
    const reply = (await this.run('idempotency claim', scope, 'signerIdemClaim', [
      json,
      recordCost(json),
    ])) as ClaimReply;
    if (reply[0] === 'claimed') return { state: 'claimed', claimId };
    if (reply[0] === 'full') {
      const [, budget, limitBytes, retryAfterSeconds] = reply;
      return { state: 'full', budget, limitBytes, retryAfterSeconds };
    }
    const stored = JSON.parse(reply[1]) as RecordJson;
    return stored.outcome
      ? { state: 'done', fingerprint: stored.fingerprint, outcome: stored.outcome }
      : { state: 'pending', fingerprint: stored.fingerprint };
  }

  async complete(
    scope: IdempotencyScope,
    claimId: string,
    fingerprint: string,
    outcome: StoredOutcome,
  ): Promise<void> {
    const json = doneJson(fingerprint, outcome);
    await this.run('idempotency complete', scope, 'signerIdemComplete', [claimId, json, recordCost(json)]);
  }

  async release(scope: IdempotencyScope, claimId: string): Promise<void> {
    await this.run('idempotency release', scope, 'signerIdemRelease', [claimId]);
  }

  private run(
    what: string,
    scope: IdempotencyScope,
    script: keyof IdempotencyCommands,
    args: Array<string | number>,
  ): Promise<unknown> {
    const { connection, timeSource } = this.options;
    const { limits } = this;
    return connection.run(what, (client) =>
      commands(client)[script](
        timeSource ? timeSource.now().getTime() : '',
        connection.key('idem', ''),
        scope.key,
        encodeURIComponent(scope.tenant),
        limits.ttlMs,
        limits.leaseMs,
        limits.minRetentionMs,
        limits.maxBytesPerTenant,
        limits.maxBytes,
        ...args,
      ),
    );
  }
}
