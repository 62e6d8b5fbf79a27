import { randomUUID } from 'node:crypto';
import type {
  Clock,
  IdempotencyBudget,
  IdempotencyClaim,
  IdempotencyScope,
  IdempotencyStore,
  StoredOutcome,
} from '@signer/core';
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
import type { RedisClient } from './redis-topology';

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

const KEY_NAMES = ['records', 'pending', 'done', 'meta', 'tenants', 'total', 'by-tenant'] as const;

/**
 * The seven keys of the idempotency scripts, in KEYS order. One hash tag for all: the overall byte
 * budget and its oldest-first eviction span every tenant, so they are one account on one Cluster
 * slot (a per-tenant tag would make the overall budget a sum no script could check atomically).
 */
export function idempotencyKeys(connection: RedisConnection): string[] {
  return KEY_NAMES.map((name) => connection.key('idem', '{idem}', name));
}

function commands(client: RedisClient): IdempotencyCommands {
  // defineCommand sends EVAL on a socket's first use and EVALSHA after (each Cluster node, too).
  if (!('signerIdemClaim' in client)) {
    const numberOfKeys = KEY_NAMES.length;
    client.defineCommand('signerIdemClaim', { numberOfKeys, lua: CLAIM_SCRIPT });
    client.defineCommand('signerIdemComplete', { numberOfKeys, lua: COMPLETE_SCRIPT });
    client.defineCommand('signerIdemRelease', { numberOfKeys, lua: RELEASE_SCRIPT });
  }
  return client as unknown as IdempotencyCommands;
}

/**
 * Idempotency records in Redis, shared by every replica: claim, completion and release are each
 * one atomic script that also keeps the per-tenant and overall byte accounting, so the budgets
 * hold across replicas. Every key is passed in KEYS under one hash tag, so this runs unchanged on
 * a standalone Redis, behind Sentinel and on Redis Cluster (all idempotency state on one slot).
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly limits: IdempotencyLimits;

  constructor(private readonly options: RedisIdempotencyStoreOptions) {
    this.limits = idempotencyLimits(options);
  }

  /** Bytes charged, overall or for one tenant (operators, tests). */
  async usage(tenant?: string): Promise<number> {
    const { connection } = this.options;
    const [, , , , tenants, total] = idempotencyKeys(connection) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const raw = await connection.run('idempotency usage', (client) =>
      tenant === undefined ? client.get(total) : client.hget(tenants, encodeURIComponent(tenant)),
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
        ...idempotencyKeys(connection),
        timeSource ? timeSource.now().getTime() : '',
        '',
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
