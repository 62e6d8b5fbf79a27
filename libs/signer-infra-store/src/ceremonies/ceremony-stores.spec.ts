import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CeremonyService,
  ceremonyPolicy,
  DecisionLog,
  newAuditId,
  SignerError,
  type AuditLookup,
  type AuditRecord,
  type AuditSink,
  type Ceremony,
  type CeremonyStore,
  type ManagedStateAdministrator,
} from '@signer/core';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@signer/testing';
import { FileCeremonyStore } from './file-ceremony-store';
import { MemoryCeremonyStore } from './memory-ceremony-store';
import { CEREMONY_SCHEMA_VERSION, PostgresCeremonyStore } from './postgres-ceremony-store';

let sequence = 0;
/** A pending ceremony created `sequence` ms after a fixed instant (so ids sort by creation). */
function ceremony(overrides: Partial<Ceremony> = {}): Ceremony {
  sequence += 1;
  const now = new Date(Date.parse('2026-06-01T12:00:00.000Z') + sequence);
  return {
    id: newAuditId(now),
    operation: { kind: 'key.revoke', name: 'release-b', reason: 'compromised' },
    status: 'pending',
    initiator: { sub: 'alice', tenant: 'ops' },
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + 86_400_000).toISOString(),
    threshold: 2,
    approvals: [],
    rejections: [],
    revision: 1,
    ...overrides,
  };
}

const next = (c: Ceremony, changes: Partial<Ceremony> = {}): Ceremony => ({
  ...c,
  ...changes,
  revision: c.revision + 1,
});

const dirs: string[] = [];
const databases: ThrowawayDatabase[] = [];
const stores: CeremonyStore[] = [];

async function track<T extends CeremonyStore>(store: Promise<T>): Promise<T> {
  const opened = await store;
  stores.push(opened);
  return opened;
}

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ceremonies-'));
  dirs.push(dir);
  return join(dir, 'state', 'ceremonies.json');
}

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
  for (const db of databases) await db.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}, 60_000);

const backends: Array<[string, () => Promise<CeremonyStore>]> = [
  ['MemoryCeremonyStore', () => track(Promise.resolve(new MemoryCeremonyStore()))],
  ['FileCeremonyStore', () => track(FileCeremonyStore.open({ path: tempFile() }))],
  [
    'PostgresCeremonyStore',
    async () => {
      const db = await createThrowawayDatabase('signer_ceremony_test');
      databases.push(db);
      return track(PostgresCeremonyStore.open({ connectionString: db.url }));
    },
  ],
];

describe.each(backends)('%s (store contract)', (_name, open) => {
  let store: CeremonyStore;
  beforeAll(async () => {
    store = await open();
  }, 30_000);

  it('answers undefined for an unknown id', async () => {
    await expect(store.get(newAuditId(new Date()))).resolves.toBeUndefined();
  });

  it('stores a new ceremony once (expected revision 0) and returns it as stored', async () => {
    const created = ceremony();
    await expect(store.compareAndSet(0, created)).resolves.toBe(true);
    await expect(store.compareAndSet(0, created)).resolves.toBe(false);
    await expect(store.get(created.id)).resolves.toEqual(created);
  });

  it('changes a ceremony only from the expected revision', async () => {
    const created = ceremony();
    await store.compareAndSet(0, created);
    const approved = next(created, {
      approvals: [{ principal: { sub: 'bob' }, at: '2026-06-01T12:01:00.000Z' }],
    });
    await expect(store.compareAndSet(5, { ...approved, revision: 6 })).resolves.toBe(false);
    await expect(store.compareAndSet(1, approved)).resolves.toBe(true);
    await expect(store.compareAndSet(1, approved)).resolves.toBe(false);
    await expect(store.get(created.id)).resolves.toEqual(approved);
  });

  it('refuses a next document whose revision is not expected + 1', async () => {
    const created = ceremony();
    await expect(store.compareAndSet(0, { ...created, revision: 3 })).rejects.toMatchObject({
      code: 'internal_error',
    });
  });

  it('lists newest first, filtered by status, at most limit', async () => {
    const a = ceremony();
    const b = ceremony();
    const c = ceremony();
    for (const item of [a, b, c]) await store.compareAndSet(0, item);
    await store.compareAndSet(1, next(b, { status: 'cancelled' }));
    const newest = await store.list({ limit: 2 });
    expect(newest.map((x) => x.id)).toEqual([c.id, b.id]);
    const cancelled = await store.list({ status: 'cancelled', limit: 100 });
    expect(cancelled.map((x) => x.id)).toEqual([b.id]);
    expect((await store.list({ status: 'pending', limit: 100 })).map((x) => x.id)).toContain(a.id);
  });

  describe('countOpen', () => {
    const erin = { sub: 'erin', tenant: 'ops' };
    const now = '2026-06-01T13:00:00.000Z';

    beforeAll(async () => {
      const own = (changes: Partial<Ceremony> = {}) => ceremony({ initiator: erin, ...changes });
      const opened = [own(), own({ initiator: { ...erin, clientId: 'cli' } }), own()];
      for (const item of opened) await store.compareAndSet(0, item);
      await store.compareAndSet(1, next(opened[2], { status: 'approved' }));
      const closed = (['rejected', 'executed', 'expired', 'cancelled'] as const).map((status) =>
        own({ status }),
      );
      for (const item of [
        ...closed,
        // Still pending in the store, but past its expiresAt (at `now` exactly: expired).
        own({ expiresAt: now }),
        own({ expiresAt: '2026-06-01T12:59:59.999Z' }),
        ceremony({ initiator: { sub: 'erin', tenant: 'lab' } }),
        ceremony({ initiator: { sub: 'erin' } }),
        ceremony({ initiator: { sub: 'frank', tenant: 'ops' } }),
      ])
        await store.compareAndSet(0, item);
    });

    it('counts the pending and approved, not expired ceremonies of one principal (sub and tenant)', async () => {
      await expect(store.countOpen(erin, now, 100)).resolves.toBe(3);
      await expect(store.countOpen({ ...erin, clientId: 'other' }, now, 100)).resolves.toBe(3);
      await expect(store.countOpen({ sub: 'erin', tenant: 'lab' }, now, 100)).resolves.toBe(1);
      await expect(store.countOpen({ sub: 'erin' }, now, 100)).resolves.toBe(1);
      await expect(store.countOpen({ sub: 'nobody', tenant: 'ops' }, now, 100)).resolves.toBe(0);
    });

    it('stops counting at atMost', async () => {
      await expect(store.countOpen(erin, now, 2)).resolves.toBe(2);
      await expect(store.countOpen(erin, now, 1)).resolves.toBe(1);
    });

    it('compares expiresAt as an instant, not as text', async () => {
      // 13:00Z written with an offset: as text it sorts before the ceremony expiring at 13:00Z,
      // as an instant it is that expiry, so that ceremony is not open.
      await expect(store.countOpen(erin, '2026-06-01T12:30:00-00:30', 100)).resolves.toBe(3);
      // A day later every one has expired.
      await expect(store.countOpen(erin, '2026-06-02T13:00:00.000Z', 100)).resolves.toBe(0);
    });
  });
});

describe('MemoryCeremonyStore', () => {
  describe('when it holds maxEntries ceremonies', () => {
    it('forgets the oldest final one for a new one, and refuses when every one is open', async () => {
      const store = new MemoryCeremonyStore({ maxEntries: 2 });
      const done = ceremony();
      const open = ceremony();
      await store.compareAndSet(0, done);
      await store.compareAndSet(1, next(done, { status: 'executed' }));
      await store.compareAndSet(0, open);
      const newer = ceremony();
      await expect(store.compareAndSet(0, newer)).resolves.toBe(true);
      await expect(store.get(done.id)).resolves.toBeUndefined();
      await expect(store.compareAndSet(0, ceremony())).rejects.toMatchObject({
        code: 'upstream_unavailable',
        upstream: 'state',
      });
    });

    it('keeps a final ceremony whose event records are still in its outbox', async () => {
      const store = new MemoryCeremonyStore({ maxEntries: 1 });
      const done = ceremony();
      await store.compareAndSet(0, done);
      const record: AuditRecord = {
        auditId: newAuditId(new Date()),
        time: done.createdAt,
        correlationId: 'c',
        route: 'test',
        outcome: 'ceremony',
        gates: {},
        latencyMs: 0,
      };
      const lease = { owner: 'a', until: done.createdAt };
      const unaudited = [{ record, step: 'execute' as const, principal: done.initiator, lease }];
      await store.compareAndSet(1, next(done, { status: 'executed', unaudited }));
      await expect(store.compareAndSet(0, ceremony())).rejects.toMatchObject({ upstream: 'state' });
      await store.compareAndSet(2, next({ ...done, status: 'executed', revision: 2 }));
      await expect(store.compareAndSet(0, ceremony())).resolves.toBe(true);
      await expect(store.get(done.id)).resolves.toBeUndefined();
    });
  });
});

describe('FileCeremonyStore', () => {
  describe('when reopened', () => {
    it('holds every committed change, and leaves no temporary file behind', async () => {
      const path = tempFile();
      const first = await FileCeremonyStore.open({ path });
      const created = ceremony();
      await first.compareAndSet(0, created);
      await first.compareAndSet(1, next(created, { status: 'cancelled' }));
      await first.close();
      const second = await track(FileCeremonyStore.open({ path }));
      await expect(second.get(created.id)).resolves.toMatchObject({ status: 'cancelled', revision: 2 });
      expect(readdirSync(join(path, '..'))).toEqual(['ceremonies.json']);
    });
  });

  describe('when the file is not a ceremony document', () => {
    it('refuses to open', async () => {
      const path = tempFile();
      const store = await FileCeremonyStore.open({ path });
      await store.close();
      expect(existsSync(path)).toBe(false);
      const { writeFileSync } = await import('node:fs');
      writeFileSync(path, '{"something":"else"}');
      await expect(FileCeremonyStore.open({ path })).rejects.toBeInstanceOf(SignerError);
    });
  });
});

/** An audit trail in memory: only the count matters here. */
class CountingSink implements AuditSink, AuditLookup {
  readonly records: AuditRecord[] = [];
  async append(record: AuditRecord): Promise<void> {
    this.records.push(structuredClone(record));
  }
  async recorded(auditIds: readonly string[]): Promise<ReadonlySet<string>> {
    return new Set(this.records.map((r) => r.auditId).filter((id) => auditIds.includes(id)));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Votes never reach the administrator; a call would be a bug, so it refuses. */
const noExecution: ManagedStateAdministrator = {
  apply: async () => {
    throw new SignerError('internal_error', 'no execution in this test');
  },
};

describe('PostgresCeremonyStore', () => {
  let db: ThrowawayDatabase;
  let replicaA: PostgresCeremonyStore;
  let replicaB: PostgresCeremonyStore;
  beforeAll(async () => {
    db = await createThrowawayDatabase('signer_ceremony_test');
    databases.push(db);
    replicaA = await track(PostgresCeremonyStore.open({ connectionString: db.url }));
    replicaB = await track(PostgresCeremonyStore.open({ connectionString: db.url }));
  }, 30_000);

  it('applies its versioned migration once', async () => {
    const applied = await db.sql<{ version: number }>(
      'SELECT version FROM signer_ceremonies.schema_migrations',
    );
    expect(applied).toEqual([{ version: CEREMONY_SCHEMA_VERSION }]);
  });

  describe('when two replicas compare-and-set the same revision at once', () => {
    it('lets exactly one win', async () => {
      const created = ceremony();
      await replicaA.compareAndSet(0, created);
      const results = await Promise.all([
        replicaA.compareAndSet(1, next(created, { status: 'cancelled' })),
        replicaB.compareAndSet(1, next(created, { status: 'approved' })),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });

  describe('when two approvals arrive on two replicas at once', () => {
    it('counts both and reaches the threshold once', async () => {
      const audit = new CountingSink();
      const clock = { now: () => new Date() };
      const decisions = new DecisionLog({ audit, clock });
      const service = (store: CeremonyStore) =>
        new CeremonyService({
          store,
          administrator: noExecution,
          policy: ceremonyPolicy({}),
          decisions,
          audit,
          lookup: audit,
          clock,
        });
      const [onA, onB] = [service(replicaA), service(replicaB)];
      const trail = () => decisions.begin('c', 'test');
      const { id } = await onA.create(
        trail(),
        { sub: 'alice', tenant: 'ops' },
        {
          kind: 'key.revoke',
          name: 'release-b',
          reason: 'compromised',
        },
      );
      for (let round = 0; round < 5; round += 1) {
        const [bob, carol] = [`bob-${round}`, `carol-${round}`];
        const { id: roundId } =
          round === 0
            ? { id }
            : await onA.create(
                trail(),
                { sub: 'alice', tenant: 'ops' },
                {
                  kind: 'key.revoke',
                  name: 'release-b',
                  reason: 'compromised',
                },
              );
        await Promise.all([
          onA.approve(trail(), { sub: bob, tenant: 'ops' }, roundId),
          onB.approve(trail(), { sub: carol, tenant: 'ops' }, roundId),
        ]);
        const stored = await replicaB.get(roundId);
        expect(stored?.status).toBe('approved');
        expect(stored?.approvals.map((v) => v.principal.sub).sort()).toEqual([bob, carol]);
        // Created, its record cleared, then each approval committed and its records cleared.
        expect(stored?.revision).toBe(6);
        expect(stored?.unaudited).toBeUndefined();
      }
      const reached = audit.records.filter((r) => r.ceremony?.event === 'threshold_reached');
      expect(reached).toHaveLength(5);
      expect(new Set(audit.records.map((r) => r.auditId)).size).toBe(audit.records.length);
    });
  });
});
