import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CeremonyService,
  ceremonyPolicy,
  DecisionLog,
  DEFAULT_CEREMONY_AUDIT_LEASE_SECONDS,
  SignerError,
  type Ceremony,
  type CeremonyStore,
  type ManagedStateAdministrator,
} from '@signer/core';
import { createThrowawayDatabase, ManualClock, TcpProxy, type ThrowawayDatabase } from '@signer/testing';
import { refusal } from '../../test/refusal';
import { PostgresAuditLookup } from '../postgres/postgres-audit-lookup';
import { createAuditPool, PostgresAuditSink } from '../postgres/postgres-audit-sink';
import { verifyPostgresAudit } from '../postgres/postgres-audit-trail';
import { PostgresCeremonyStore } from './postgres-ceremony-store';

jest.setTimeout(30_000);

/** The real store, one of whose next writes (`failWrite(n)`: the n-th) fails as if PostgreSQL went away. */
class FaultyStore implements CeremonyStore {
  private writesUntilFailure = 0;
  constructor(private readonly real: CeremonyStore) {}
  failWrite(nth: number): void {
    this.writesUntilFailure = nth;
  }
  get(id: string) {
    return this.real.get(id);
  }
  list(options: Parameters<CeremonyStore['list']>[0]) {
    return this.real.list(options);
  }
  countOpen(...args: Parameters<CeremonyStore['countOpen']>) {
    return this.real.countOpen(...args);
  }
  async compareAndSet(expectedRevision: number, next: Ceremony): Promise<boolean> {
    if (this.writesUntilFailure > 0 && --this.writesUntilFailure === 0)
      throw new SignerError('upstream_unavailable', 'ceremony store write failed', { upstream: 'state' });
    return this.real.compareAndSet(expectedRevision, next);
  }
  close() {
    return this.real.close();
  }
}

const noExecution: ManagedStateAdministrator = {
  apply: async () => {
    throw new SignerError('internal_error', 'no execution in this test');
  },
};

/**
 * The outbox against the real PostgreSQL trail, whose UNIQUE audit_id refuses a second copy of a
 * record (failing its whole batch): an outage between commit and record, and records written but
 * not cleared, must leave every event in the trail exactly once.
 */
describe('ceremony audit outbox on PostgreSQL', () => {
  let db: ThrowawayDatabase;
  let proxy: TcpProxy;
  let sink: PostgresAuditSink;
  let lookup: PostgresAuditLookup;
  let store: FaultyStore;
  let service: CeremonyService;
  let decisions: DecisionLog;
  const clock = new ManualClock();

  beforeAll(async () => {
    db = await createThrowawayDatabase('signer_outbox_test');
    proxy = await TcpProxy.start({ host: '127.0.0.1', port: 5432 });
    const trailUrl = db.urlAs('postgres', '127.0.0.1', proxy.port);
    sink = await PostgresAuditSink.open({ connectionString: trailUrl, connectTimeoutMs: 500 });
    lookup = PostgresAuditLookup.open({ connectionString: trailUrl, connectTimeoutMs: 500 });
    store = new FaultyStore(await PostgresCeremonyStore.open({ connectionString: db.url }));
    decisions = new DecisionLog({ audit: sink, clock });
    service = new CeremonyService({
      store,
      administrator: noExecution,
      policy: ceremonyPolicy({}),
      decisions,
      audit: sink,
      lookup,
      clock,
    });
  });

  afterAll(async () => {
    await sink?.close();
    await lookup?.close();
    await store?.close();
    await proxy?.close();
    await db?.drop();
  }, 60_000);

  const trail = () => decisions.begin('corr', 'test');
  const alice = { sub: 'alice', tenant: 'ops' };

  async function events(id: string): Promise<string[]> {
    const rows = await db.sql<{ record: string }>(
      "SELECT record FROM signer_audit.chain_records WHERE outcome = 'ceremony' ORDER BY seq",
    );
    return rows
      .map((row) => JSON.parse(row.record) as { ceremony: { id: string; event: string; approvals: number } })
      .filter((r) => r.ceremony.id === id)
      .map((r) => `${r.ceremony.event} ${r.ceremony.approvals}`);
  }

  it('writes a vote answered 503 during an outage exactly once, by the next step', async () => {
    const { id } = await service.create(trail(), alice, { kind: 'key.activate', name: 'release-b' });
    proxy.cut();
    const failed = await refusal(service.approve(trail(), { sub: 'bob', tenant: 'ops' }, id));
    expect(failed).toMatchObject({ code: 'upstream_unavailable', upstream: 'audit' });
    expect((await store.get(id))?.approvals).toHaveLength(1);
    proxy.restore();
    expect((await service.approve(trail(), { sub: 'carol', tenant: 'ops' }, id)).status).toBe('approved');
    expect(await events(id)).toEqual(['initiated 0', 'approved 1', 'approved 2', 'threshold_reached 2']);
    expect((await store.get(id))?.unaudited).toBeUndefined();
  });

  it('finds written records it could not clear in the trail after the lease, and never writes them again', async () => {
    const { id } = await service.create(trail(), alice, { kind: 'key.retire', name: 'release-b' });
    // Bob's vote commits (write 1) and its record is written; clearing it (write 2) fails.
    store.failWrite(2);
    await service.approve(trail(), { sub: 'bob', tenant: 'ops' }, id);
    expect((await store.get(id))?.unaudited).toHaveLength(1);
    clock.advanceMs(DEFAULT_CEREMONY_AUDIT_LEASE_SECONDS * 1000);
    // A second copy would be refused by UNIQUE(audit_id), failing this read with 503.
    await service.get(trail(), id);
    expect((await store.get(id))?.unaudited).toBeUndefined();
    expect(await events(id)).toEqual(['initiated 0', 'approved 1']);
  });

  it('leaves a trail that verifies, with every audit id once', async () => {
    await sink.close();
    const pool = createAuditPool({ connectionString: db.url, poolSize: 1 });
    try {
      await expect(verifyPostgresAudit(pool)).resolves.toMatchObject({ ok: true });
      const rows = await db.sql<{ n: string; d: string }>(
        'SELECT count(*) AS n, count(DISTINCT audit_id) AS d FROM signer_audit.chain_records',
      );
      expect(rows[0].n).toBe(rows[0].d);
    } finally {
      await pool.end();
    }
  });
});
