import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Pool } from 'pg';
import { GENESIS_HASH, verifyAuditChain, type AuditRecord, type ChainedAuditRecord } from '@signer/core';
import { createThrowawayDatabase, TcpProxy, type ThrowawayDatabase } from '@signer/testing';
import { auditRecord } from '../../test/audit-records';
import { refusal } from '../../test/refusal';
import { AUDIT_SCHEMA_VERSION, AUDIT_WRITER_ROLE } from './migrations';
import { createAuditPool, PostgresAuditSink } from './postgres-audit-sink';
import { exportPostgresAudit, verifyPostgresAudit } from './postgres-audit-trail';

const databases: ThrowawayDatabase[] = [];
const pools: Pool[] = [];

async function database(): Promise<ThrowawayDatabase> {
  const db = await createThrowawayDatabase('signer_audit_test');
  databases.push(db);
  return db;
}

function pool(url: string): Pool {
  // The sink's own pool settings: an idle connection that afterAll's forced DROP DATABASE ends
  // while the pool is still closing it reports an error event, which must not fail the run.
  const created = createAuditPool({ connectionString: url, poolSize: 2 });
  pools.push(created);
  return created;
}

async function storedRecords(db: ThrowawayDatabase): Promise<ChainedAuditRecord[]> {
  const rows = await db.sql<{ record: string }>('SELECT record FROM signer_audit.records ORDER BY seq');
  return rows.map((row) => JSON.parse(row.record) as ChainedAuditRecord);
}

function record(n: number, overrides: Partial<AuditRecord> = {}): AuditRecord {
  return { ...auditRecord(n), auditId: `${auditRecord(n).auditId}-${Math.random()}`, ...overrides };
}

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  for (const db of databases) await db.drop();
}, 60_000);

describe('PostgresAuditSink', () => {
  describe('when opened on an empty database by its owner', () => {
    let db: ThrowawayDatabase;
    beforeAll(async () => {
      db = await database();
    });

    it('applies the versioned migrations once', async () => {
      const first = await PostgresAuditSink.open({ connectionString: db.url });
      await first.close();
      const second = await PostgresAuditSink.open({ connectionString: db.url });
      await second.close();
      const applied = await db.sql<{ version: number }>('SELECT version FROM signer_audit.schema_migrations');
      expect(applied).toEqual([{ version: AUDIT_SCHEMA_VERSION }]);
    });

    it('starts the chain at the genesis hash', async () => {
      const sink = await PostgresAuditSink.open({ connectionString: db.url });
      await sink.append(record(1));
      await sink.close();
      const [first] = await storedRecords(db);
      expect(first.prevHash).toBe(GENESIS_HASH);
      await expect(verifyPostgresAudit(pool(db.url))).resolves.toMatchObject({ ok: true, count: 1 });
    });

    it('refuses UPDATE and DELETE even for the owner', async () => {
      await expect(db.sql("UPDATE signer_audit.records SET outcome = 'signed'")).rejects.toMatchObject({
        code: '42501',
      });
      await expect(db.sql('DELETE FROM signer_audit.records')).rejects.toMatchObject({ code: '42501' });
      await expect(db.sql('TRUNCATE signer_audit.records')).rejects.toMatchObject({ code: '42501' });
    });
  });

  describe('when the Signer logs in with the writer role', () => {
    let db: ThrowawayDatabase;
    let writerUrl: string;
    beforeAll(async () => {
      db = await database();
      await (await PostgresAuditSink.open({ connectionString: db.url })).close();
      writerUrl = db.urlAs(await db.createLoginRole([AUDIT_WRITER_ROLE]));
    });

    it('appends and reads the trail', async () => {
      const sink = await PostgresAuditSink.open({ connectionString: writerUrl });
      await Promise.all([1, 2, 3].map((n) => sink.append(record(n))));
      await sink.close();
      await expect(verifyPostgresAudit(pool(writerUrl))).resolves.toMatchObject({ ok: true, count: 3 });
    });

    it.each([
      ['UPDATE', "UPDATE signer_audit.records SET outcome = 'signed'"],
      ['DELETE', 'DELETE FROM signer_audit.records'],
      ['TRUNCATE', 'TRUNCATE signer_audit.records'],
      ['DROP', 'DROP TABLE signer_audit.records'],
    ])('is refused %s (permission denied)', async (_verb, statement) => {
      await expect(pool(writerUrl).query(statement)).rejects.toMatchObject({
        code: expect.stringMatching(/^42501$/),
      });
    });
  });

  describe('when the writer role meets an unmigrated database', () => {
    it('refuses to start, naming the migrate command', async () => {
      const db = await database();
      const writer = db.urlAs(await db.createLoginRole([]));
      const error = await refusal(PostgresAuditSink.open({ connectionString: writer }));
      expect(error.message).toContain('signer audit migrate');
    });
  });

  describe('when 200 appends arrive concurrently', () => {
    it('commits one unbroken chain in far fewer transactions than records', async () => {
      const db = await database();
      const sink = await PostgresAuditSink.open({ connectionString: db.url });
      const records = Array.from({ length: 200 }, (_, n) => record(n));
      await Promise.all(records.map((r) => sink.append(r)));
      await sink.close();
      const stored = await storedRecords(db);
      expect(verifyAuditChain(stored)).toMatchObject({ ok: true, count: 200 });
      expect(stored.map((r) => r.auditId)).toEqual(records.map((r) => r.auditId));
      const [{ transactions }] = await db.sql<{ transactions: number }>(
        'SELECT count(DISTINCT xmin::text)::int AS transactions FROM signer_audit.records',
      );
      expect(transactions).toBeLessThanOrEqual(10);
    });
  });

  describe('when two replicas append to the same trail at once', () => {
    it('serialises them into one chain holding every record once', async () => {
      const db = await database();
      const [a, b] = [
        await PostgresAuditSink.open({ connectionString: db.url }),
        await PostgresAuditSink.open({ connectionString: db.url }),
      ];
      const records = Array.from({ length: 200 }, (_, n) => record(n));
      const appends: Promise<void>[] = [];
      for (let round = 0; round < 10; round += 1) {
        for (const r of records.slice(round * 20, round * 20 + 20)) {
          appends.push((appends.length % 2 === 0 ? a : b).append(r));
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(appends);
      await Promise.all([a.close(), b.close()]);
      await expect(verifyPostgresAudit(pool(db.url))).resolves.toMatchObject({ ok: true, count: 200 });
      const ids = (await storedRecords(db)).map((r) => r.auditId).sort();
      expect(ids).toEqual(records.map((r) => r.auditId).sort());
    });
  });

  describe('when a stored row is tampered with', () => {
    let db: ThrowawayDatabase;
    beforeAll(async () => {
      db = await database();
      const sink = await PostgresAuditSink.open({ connectionString: db.url });
      for (const n of [0, 1, 2, 3]) await sink.append(record(n, { tenant: 'tenant-a' }));
      await sink.close();
    });

    /** Tampering needs the owner to switch the append-only triggers off: exactly what an attacker with DB access does. */
    async function tamper(statement: string): Promise<void> {
      await db.sql(`BEGIN; SET LOCAL session_replication_role = replica; ${statement}; COMMIT;`);
    }

    it('reports the edited record as the first broken link', async () => {
      await tamper(
        `UPDATE signer_audit.records SET record = replace(record, '"outcome":"signed"', '"outcome":"checked"') WHERE seq = 3`,
      );
      const check = await verifyPostgresAudit(pool(db.url));
      expect(check).toMatchObject({ ok: false, index: 2 });
      expect(!check.ok && check.reason).toContain('seq 3');
    });

    it('reports a lookup column that disagrees with its record', async () => {
      await tamper(`UPDATE signer_audit.records SET tenant = 'tenant-b' WHERE seq = 2`);
      await expect(verifyPostgresAudit(pool(db.url))).resolves.toMatchObject({
        ok: false,
        index: 1,
        reason: expect.stringContaining('column tenant'),
      });
    });

    it('reports a deleted record at the gap', async () => {
      await tamper('DELETE FROM signer_audit.records WHERE seq = 1');
      await expect(verifyPostgresAudit(pool(db.url))).resolves.toMatchObject({ ok: false, index: 0 });
    });
  });

  describe('when PostgreSQL becomes unreachable', () => {
    it('rejects appends with upstream_unavailable (audit), then recovers the same chain', async () => {
      const db = await database();
      const proxy = await TcpProxy.start({ host: '127.0.0.1', port: 5432 });
      try {
        const sink = await PostgresAuditSink.open({
          connectionString: db.urlAs('postgres', '127.0.0.1', proxy.port),
          connectTimeoutMs: 500,
        });
        const [first, lost, later] = [record(1), record(2), record(3)];
        await sink.append(first);
        proxy.cut();
        const error = await refusal(sink.append(lost));
        expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'audit' });
        await expect(sink.ping()).rejects.toMatchObject({ code: 'upstream_unavailable' });
        proxy.restore();
        await sink.append(later);
        await sink.close();
        const stored = await storedRecords(db);
        expect(stored.map((r) => r.auditId)).toEqual([first.auditId, later.auditId]);
        expect(verifyAuditChain(stored)).toMatchObject({ ok: true, count: 2 });
      } finally {
        await proxy.close();
      }
    });
  });

  describe('when a record carries hostile or unstorable values', () => {
    it('stores NUL characters losslessly in the hashed record and rejects only the unstorable record', async () => {
      const db = await database();
      const sink = await PostgresAuditSink.open({ connectionString: db.url });
      const hostile = record(1, { tenant: 'ten\u0000ant', predicateType: 'x\u0000y' });
      const [stored, unstorable] = await Promise.allSettled([
        sink.append(hostile),
        sink.append(record(2, { time: 'not a time' })),
      ]);
      await sink.close();
      expect(stored.status).toBe('fulfilled');
      expect(unstorable).toMatchObject({ status: 'rejected', reason: { code: 'internal_error' } });
      const [row] = await storedRecords(db);
      expect(row.predicateType).toBe('x\u0000y');
      await expect(verifyPostgresAudit(pool(db.url))).resolves.toMatchObject({ ok: true, count: 1 });
    });
  });

  describe('when closed', () => {
    it('settles accepted appends, then refuses new ones', async () => {
      const db = await database();
      const sink = await PostgresAuditSink.open({ connectionString: db.url });
      const accepted = [1, 2, 3].map((n) => sink.append(record(n)));
      await sink.close();
      await expect(Promise.all(accepted)).resolves.toHaveLength(3);
      expect((await refusal(sink.append(record(4)))).code).toBe('upstream_unavailable');
    });
  });
});

describe('exportPostgresAudit', () => {
  describe('when several tenants share the trail', () => {
    it('yields one tenant only, since the given instant, in chain order', async () => {
      const db = await database();
      const sink = await PostgresAuditSink.open({ connectionString: db.url });
      const at = (minute: number) => new Date(Date.UTC(2026, 5, 1, 12, minute)).toISOString();
      const records = [
        record(1, { tenant: 'tenant-a', time: at(0) }),
        record(2, { tenant: 'tenant-b', time: at(1) }),
        record(3, { tenant: 'tenant-a', time: at(2) }),
        record(4, { tenant: undefined, time: at(3) }),
        record(5, { tenant: 'tenant-a', time: at(4) }),
      ];
      for (const r of records) await sink.append(r);
      await sink.close();
      const exported: ChainedAuditRecord[] = [];
      for await (const r of exportPostgresAudit(pool(db.url), {
        tenant: 'tenant-a',
        since: new Date(at(1)),
      })) {
        exported.push(r);
      }
      expect(exported.map((r) => r.auditId)).toEqual([records[2].auditId, records[4].auditId]);
    });
  });
});
