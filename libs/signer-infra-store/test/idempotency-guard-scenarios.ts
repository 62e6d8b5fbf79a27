import { describe, expect, it } from '@jest/globals';
import {
  IdempotencyGuard,
  SignerError,
  type IdempotencyStore,
  type SignDsseRequest,
  type VerifiedOpTok,
} from '@signer/core';
import type { IdempotencyLimitsOptions } from '../src/memory/idempotency-records';
import { refusal } from './refusal';

/** Stores over fresh state on the real clock; each call is another replica of one installation. */
export type ReplicaStoreFactory = (limits: IdempotencyLimitsOptions) => Promise<() => IdempotencyStore>;

const token = (tenant = 'tenant-a'): VerifiedOpTok => ({
  subject: 'svc-scanner',
  clientId: 'scanner',
  tenant,
  scopes: ['signer.sign'],
  expiresAt: 4_000_000_000,
  confirmation: { jkt: 'thumbprint' },
  tokenHash: 'token-hash',
});

const request = (n = 1): SignDsseRequest => ({
  subject: [{ name: 'registry.example/app', digest: { sha256: 'ab'.repeat(32) } }],
  predicateType: 'https://stella-ops.org/attestations/sbom/1',
  predicate: { n, padding: 'p'.repeat(4000) },
  scannerImageDigest: `sha256:${'cd'.repeat(32)}`,
  poe: { format: 'jwt', value: 'poe' },
});

/**
 * The guard over a real store, on the real clock: what a caller sees when a replica died holding
 * its key, and when a tenant (or the installation) has no room left for new records.
 */
export function describeGuardOverStore(factory: ReplicaStoreFactory): void {
  describe('when the replica that claimed a key died before answering', () => {
    it('lets a retry on another replica run once the lease ends, instead of 503 for a day', async () => {
      const replica = await factory({ leaseSeconds: 1 });
      const first = await new IdempotencyGuard({ store: replica() }).enter('crash-1', token(), request());
      expect(first.kind).toBe('run'); // and then this replica dies: no succeed, no fail
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const started = Date.now();
      const retry = await new IdempotencyGuard({ store: replica(), waitMs: 5000 }).enter(
        'crash-1',
        token(),
        request(),
      );
      expect(retry.kind).toBe('run');
      expect(Date.now() - started).toBeLessThan(500);
    });

    it('makes a duplicate waiting on the dead claim run when the lease ends', async () => {
      const replica = await factory({ leaseSeconds: 1 });
      const guard = new IdempotencyGuard({ store: replica(), waitMs: 5000 });
      const first = await guard.enter('crash-2', token(), request());
      expect(first.kind).toBe('run'); // and then this replica dies: no succeed, no fail
      const started = Date.now();
      const retry = await new IdempotencyGuard({ store: replica(), waitMs: 5000 }).enter(
        'crash-2',
        token(),
        request(),
      );
      expect(retry.kind).toBe('run');
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(Date.now() - started).toBeLessThan(3000);
    });
  });

  describe("when a tenant's answers fill its byte budget", () => {
    it('refuses a new key with a retryable 429 naming the limit, and still replays its answers', async () => {
      const replica = await factory({ maxBytesPerTenant: 20_000, minRetentionSeconds: 600 });
      const guard = new IdempotencyGuard({ store: replica() });
      const stored = await fillUntilRefused(guard, token());
      expect(stored).toBeGreaterThanOrEqual(1);
      const refused = await refusal(guard.enter('one-more', token(), request(99)));
      expect(refused).toMatchObject({ code: 'plan_throttled', limit: 'idempotency' });
      expect(refused.retryAfterSeconds).toBeGreaterThan(590);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(600);
      await expect(guard.enter('key-0', token(), request(0))).resolves.toMatchObject({
        kind: 'replay',
        outcome: { kind: 'refused', auditId: 'audit-0' },
      });
      expect((await guard.enter('key-0', token('tenant-b'), request(0))).kind).toBe('run');
    });
  });

  describe('when all tenants together fill the overall budget', () => {
    it('refuses a new key of any tenant with a retryable 503', async () => {
      const replica = await factory({ maxBytes: 20_000, minRetentionSeconds: 600 });
      const guard = new IdempotencyGuard({ store: replica() });
      await fillUntilRefused(guard, token());
      const refused = await refusal(guard.enter('first-of-b', token('tenant-b'), request(0)));
      expect(refused.code).toBe('upstream_unavailable');
      expect(refused.retryAfterSeconds).toBeGreaterThan(590);
    });
  });
}

/** Stores large final refusals under fresh keys until the guard refuses one; returns how many fit. */
async function fillUntilRefused(guard: IdempotencyGuard, caller: VerifiedOpTok): Promise<number> {
  for (let n = 0; n < 10; n += 1) {
    const decision = await guard.enter(`key-${n}`, caller, request(n)).catch(() => undefined);
    if (decision === undefined) return n;
    if (decision.kind !== 'run') throw new Error('expected a fresh key to run');
    await decision.ticket.fail(
      new SignerError('predicate_unsupported', 'x'.repeat(8000), { auditId: `audit-${n}` }),
    );
  }
  throw new Error('expected the budget to refuse a key within 10 records of 8 kB');
}
