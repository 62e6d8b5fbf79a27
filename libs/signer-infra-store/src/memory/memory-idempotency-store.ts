import { randomUUID } from 'node:crypto';
import {
  systemClock,
  type Clock,
  type IdempotencyBudget,
  type IdempotencyClaim,
  type IdempotencyScope,
  type IdempotencyStore,
  type StoredOutcome,
} from '@signer/core';
import {
  doneJson,
  idempotencyLimits,
  pendingJson,
  recordCost,
  secondsUntilEvictable,
  type IdempotencyLimits,
  type IdempotencyLimitsOptions,
  type RecordJson,
} from './idempotency-records';

export interface MemoryIdempotencyStoreOptions extends IdempotencyLimitsOptions {
  clock?: Clock;
}

interface Held {
  tenant: string;
  fingerprint: string;
  /** Set while this is a claim. */
  claimId?: string;
  /** The completed record as stored (its JSON is what is charged, and what a replay parses). */
  json?: string;
  bytes: number;
  expiresAtMs: number;
  completedAtMs: number;
}

interface TenantUsage {
  bytes: number;
  /** This tenant's completed keys, oldest first (a Set keeps insertion order). */
  done: Set<string>;
}

/**
 * Idempotency records in this process; same semantics as the Redis store (one conformance suite).
 * Bounded in bytes per tenant and overall. Claims and completed records each sit in a Set in
 * insertion order, which is expiry order (one lease, one TTL), so expired ones are swept from the
 * front in O(1) per record, and the oldest completed record is the first one.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, Held>();
  private readonly pending = new Set<string>();
  private readonly done = new Set<string>();
  private readonly tenants = new Map<string, TenantUsage>();
  private totalBytes = 0;
  private readonly clock: Clock;
  private readonly limits: IdempotencyLimits;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.limits = idempotencyLimits(options);
  }

  /** Bytes charged, overall and per tenant (operators, tests). */
  usage(tenant?: string): number {
    return tenant === undefined ? this.totalBytes : (this.tenants.get(tenant)?.bytes ?? 0);
  }

  async claim(scope: IdempotencyScope, fingerprint: string): Promise<IdempotencyClaim> {
    const now = this.clock.now().getTime();
    this.sweep(now);
    const existing = this.live(scope.key, now);
    if (existing) {
      if (existing.json === undefined) return { state: 'pending', fingerprint: existing.fingerprint };
      const stored = JSON.parse(existing.json) as RecordJson;
      return { state: 'done', fingerprint: stored.fingerprint, outcome: stored.outcome as StoredOutcome };
    }
    const claimId = randomUUID();
    const bytes = recordCost(pendingJson(fingerprint, claimId));
    const full = this.makeRoom(scope.tenant, bytes, now);
    if (full) return full;
    this.add(scope, {
      tenant: scope.tenant,
      fingerprint,
      claimId,
      bytes,
      expiresAtMs: now + this.limits.leaseMs,
      completedAtMs: 0,
    });
    return { state: 'claimed', claimId };
  }

  async complete(
    scope: IdempotencyScope,
    claimId: string,
    fingerprint: string,
    outcome: StoredOutcome,
  ): Promise<void> {
    const now = this.clock.now().getTime();
    const existing = this.records.get(scope.key);
    // Another caller's live claim or record: a lapsed claim's late answer must not replace it.
    if (existing && existing.claimId !== claimId && existing.expiresAtMs > now) return;
    this.drop(scope.key);
    const json = doneJson(fingerprint, outcome);
    const bytes = recordCost(json);
    // The answer is kept even past the budget (this request already ran): room is made from
    // records past their minimum retention, and new claims wait until the budget has room again.
    this.makeRoom(scope.tenant, bytes, now);
    this.add(scope, {
      tenant: scope.tenant,
      fingerprint,
      json,
      bytes,
      expiresAtMs: now + this.limits.ttlMs,
      completedAtMs: now,
    });
  }

  async release(scope: IdempotencyScope, claimId: string): Promise<void> {
    if (this.records.get(scope.key)?.claimId === claimId) this.drop(scope.key);
  }

  private live(key: string, now: number): Held | undefined {
    const held = this.records.get(key);
    if (held === undefined || held.expiresAtMs > now) return held;
    this.drop(key);
    return undefined;
  }

  /**
   * Evicts completed records past their minimum retention, oldest first, until `bytes` more fit
   * both budgets; answers `full` (with when to retry) if they cannot.
   */
  private makeRoom(
    tenant: string,
    bytes: number,
    now: number,
  ): Extract<IdempotencyClaim, { state: 'full' }> | undefined {
    const usage = this.tenants.get(tenant);
    const budgets: Array<[IdempotencyBudget, () => number, number, Set<string> | undefined]> = [
      ['tenant', () => usage?.bytes ?? 0, this.limits.maxBytesPerTenant, usage?.done],
      ['overall', () => this.totalBytes, this.limits.maxBytes, this.done],
    ];
    for (const [budget, used, limitBytes, order] of budgets) {
      while (used() + bytes > limitBytes) {
        const oldest = order?.values().next().value;
        const held = oldest === undefined ? undefined : this.records.get(oldest);
        if (oldest === undefined || held === undefined) {
          return { state: 'full', budget, limitBytes, retryAfterSeconds: 1 };
        }
        if (held.completedAtMs + this.limits.minRetentionMs > now) {
          const retryAfterSeconds = secondsUntilEvictable(held.completedAtMs, this.limits, now);
          return { state: 'full', budget, limitBytes, retryAfterSeconds };
        }
        this.drop(oldest);
      }
    }
    return undefined;
  }

  private add(scope: IdempotencyScope, held: Held): void {
    this.records.set(scope.key, held);
    let usage = this.tenants.get(held.tenant);
    if (usage === undefined) {
      usage = { bytes: 0, done: new Set() };
      this.tenants.set(held.tenant, usage);
    }
    usage.bytes += held.bytes;
    this.totalBytes += held.bytes;
    if (held.json === undefined) {
      this.pending.add(scope.key);
    } else {
      this.done.add(scope.key);
      usage.done.add(scope.key);
    }
  }

  private drop(key: string): void {
    const held = this.records.get(key);
    if (held === undefined) return;
    this.records.delete(key);
    this.pending.delete(key);
    this.done.delete(key);
    this.totalBytes -= held.bytes;
    const usage = this.tenants.get(held.tenant);
    if (usage === undefined) return;
    usage.bytes -= held.bytes;
    usage.done.delete(key);
    if (usage.bytes <= 0 && usage.done.size === 0) this.tenants.delete(held.tenant);
  }

  private sweep(now: number): void {
    for (const order of [this.pending, this.done]) {
      for (const key of order) {
        const held = this.records.get(key);
        if (held !== undefined && held.expiresAtMs > now) break;
        this.drop(key);
        order.delete(key);
      }
    }
  }
}
