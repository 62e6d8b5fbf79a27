import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Pool } from 'pg';
import { GENESIS_HASH, verifyAuditChain, type AuditRecord, type ChainedAuditRecord } from '@signer/core';
import { createThrowawayDatabase, TcpProxy, type ThrowawayDatabase } from '@signer/testing';
import { auditRecord } from '../../test/audit-records';
import { refusal } from '../../test/refusal';
import { writeCheckpoint } from './audit-checkpoints';
import { chainRows, EMPTY_CHAIN } from './audit-rows';
import { migrateAuditSchema } from './migrate';
import { AUDIT_MIGRATIONS, AUDIT_SCHEMA_VERSION, AUDIT_WRITER_ROLE } from './migrations';
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
  const rows = await db.sql<{ record: string }>(
    'SELECT record FROM signer_audit.chain_records ORDER BY chain_id, seq',
  );
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
      const applied = await db.sql<{ version: number }>(
        'SELECT version FROM signer_audit.schema_migrations ORDER BY version',
      );
      expect(applied).toEqual(AUDIT_MIGRATIONS.map(({ version }) => ({ version })));
      expect(applied.at(-1)).toEqual({ version: AUDIT_SCHEMA_VERSION });
    });

    it('starts the chain at the genesis hash', async () => {
      const sink = await PostgresAuditSink.open({ connectionString: db.url });
      await sink.append(record(1));
      await sink.close();
      const [first] = await storedRecords(db);
      expect(first.prevHash).toBe(GENESIS_HASH);
      await expect(verifyPostgresAudit(pool(db.url))).resolves.toMatchObject({ ok: true, count: 1 });
    });

    // The legacy table is empty here (a new sink writes its own chain): row triggers need rows.
    it.each([
      ['chain_records', 'seq = seq'],
      ['chains', 'pid = pid'],
      ['checkpoints', 'seq = seq'],
      ['chain_ends', 'seq = seq'],
    ])('refuses UPDATE, DELETE and TRUNCATE of %s even for the owner', async (table, assignment) => {
      await expect(db.sql(`UPDATE signer_audit.${table} SET ${assignment}`)).rejects.toMatchObject({
        code: '42501',
      });
      await expect(db.sql(`DELETE FROM signer_audit.${table}`)).rejects.toMatchObject({ code: '42501' });
      await expect(db.sql(`TRUNCATE signer_audit.${table} CASCADE`)).rejects.toMatchObject({
        code: '42501',
      });
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
      ['UPDATE of a chain', "UPDATE signer_audit.chain_records SET outcome = 'signed'"],
      ['DELETE of a chain', 'DELETE FROM signer_audit.chain_records'],
      ['DELETE of a checkpoint', 'DELETE FROM signer_audit.checkpoints'],
      ['TRUNCATE of the checkpoints', 'TRUNCATE signer_audit.checkpoints'],
      ['DELETE of a chain end', 'DELETE FROM signer_audit.chain_ends'],
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
        'SELECT count(DISTINCT xmin::text)::int AS transactions FROM signer_audit.chain_records',
      );
      expect(transactions).toBeLessThanOrEqual(10);
    });
  });

  describe('when two replicas append to the same trail at once', () => {
    it('keeps one chain per replica, every record once, tied together by checkpoints', async () => {
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
      expect(a.chainId).not.toBe(b.chainId);
      // The legacy chain (empty here) and one chain per replica.
      await expect(verifyPostgresAudit(pool(db.url))).resolves.toMatchObject({
        ok: true,
        count: 200,
        chains: 3,
      });
      const ids = (await storedRecords(db)).map((r) => r.auditId).sort();
      expect(ids).toEqual(records.map((r) => r.auditId).sort());
      // Each chain's last listed head: together the checkpoints pin all 200 records.
      const checkpoints = await db.sql<{ record: string }>('SELECT record FROM signer_audit.checkpoints');
      const pinned = new Map<string, number>();
      for (const { record } of checkpoints) {
        for (const head of (JSON.parse(record) as { heads: { chainId: string; seq: number }[] }).heads) {
          pinned.set(head.chainId, Math.max(pinned.get(head.chainId) ?? 0, head.seq));
        }
      }
      expect([...pinned.keys()].sort()).toEqual([a.chainId, b.chainId].sort());
      expect([...pinned.values()].reduce((sum, seq) => sum + seq, 0)).toBe(200);
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
        `UPDATE signer_audit.chain_records SET record = replace(record, '"outcome":"signed"', '"outcome":"checked"') WHERE seq = 3`,
      );
      const check = await verifyPostgresAudit(pool(db.url));
      expect(check).toMatchObject({ ok: false, index: 2 });
      expect(!check.ok && check.reason).toContain('seq 3');
    });

    it('reports a lookup column that disagrees with its record', async () => {
      await tamper(`UPDATE signer_audit.chain_records SET tenant = 'tenant-b' WHERE seq = 2`);
      await expect(verifyPostgresAudit(pool(db.url))).resolves.toMatchObject({
        ok: false,
        index: 1,
        reason: expect.stringContaining('column tenant'),
      });
    });

    it('reports a deleted record at the gap', async () => {
      await tamper('DELETE FROM signer_audit.chain_records WHERE seq = 1');
      await expect(verifyPostgresAudit(pool(db.url))).resolves.toMatchObject({ ok: false, index: 0 });
    });
  });

  describe('when the end of a chain or a checkpoint is tampered with', () => {
    let db: ThrowawayDatabase;
    beforeEach(async () => {
      db = await database();
      const sink = await PostgresAuditSink.open({ connectionString: db.url });
      for (const n of [0, 1, 2, 3]) await sink.append(record(n));
      await sink.close();
    });

    async function tamper(statement: string): Promise<void> {
      await db.sql(`BEGIN; SET LOCAL session_replication_role = replica; ${statement}; COMMIT;`);
    }

    it('reports the removed last record, which its chain alone cannot show', async () => {
      await tamper('DELETE FROM signer_audit.chain_records WHERE seq = 4');
      const ended = await verifyPostgresAudit(pool(db.url));
      expect(!ended.ok && ended.reason).toMatch(/ended at seq 4 .* but its last record is seq 3/);
      // Removing the chain's end too leaves the checkpoint that pinned seq 4.
      await tamper('DELETE FROM signer_audit.chain_ends');
      const check = await verifyPostgresAudit(pool(db.url));
      expect(check).toMatchObject({ ok: false, index: 3 });
      expect(!check.ok && check.reason).toMatch(/^checkpoint 1: head of chain \S+ at seq 4 is missing/);
    });

    it('reports an edited checkpoint', async () => {
      await tamper(`UPDATE signer_audit.checkpoints SET record = replace(record, '"seq":4', '"seq":3')`);
      const check = await verifyPostgresAudit(pool(db.url));
      expect(check).toMatchObject({
        ok: false,
        reason: expect.stringContaining('checkpoint 1: expected hash'),
      });
    });

    it('reports a removed checkpoint at the gap', async () => {
      const sink = await PostgresAuditSink.open({ connectionString: db.url });
      await sink.append(record(9));
      await sink.close();
      await tamper('DELETE FROM signer_audit.checkpoints WHERE seq = 1');
      await expect(verifyPostgresAudit(pool(db.url))).resolves.toMatchObject({
        ok: false,
        reason: expect.stringContaining('expected seq 1, got 2'),
      });
    });
  });

  describe('when a writer keeps running', () => {
    it('checkpoints its new records on its own, without being closed', async () => {
      const db = await database();
      const sink = await PostgresAuditSink.open({ connectionString: db.url, checkpointIntervalMs: 100 });
      await sink.append(record(1));
      let checkpoints: { record: string }[] = [];
      for (let attempt = 0; attempt < 100 && checkpoints.length === 0; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        checkpoints = await db.sql<{ record: string }>('SELECT record FROM signer_audit.checkpoints');
      }
      await sink.close();
      expect(checkpoints).toHaveLength(1);
      expect(JSON.parse(checkpoints[0].record)).toMatchObject({
        seq: 1,
        writer: sink.chainId,
        heads: [{ chainId: sink.chainId, seq: 1 }],
      });
    });
  });

  describe('when the checkpoint chain grows past ten links', () => {
    it('walks it in numeric order', async () => {
      const db = await database();
      // The sink's own checkpoints are kept out of the way: the test writes each one.
      const sink = await PostgresAuditSink.open({ connectionString: db.url, checkpointIntervalMs: 60_000 });
      for (let n = 0; n < 12; n += 1) {
        await sink.append(record(n));
        await expect(
          writeCheckpoint(pool(db.url), { writer: sink.chainId, minIntervalMs: 0, wait: true }),
        ).resolves.toBe('written');
      }
      await sink.close();
      await expect(verifyPostgresAudit(pool(db.url))).resolves.toMatchObject({ ok: true, checkpoints: 12 });
    });
  });

  describe('when a writer closes', () => {
    let db: ThrowawayDatabase;
    let first: PostgresAuditSink;
    let second: PostgresAuditSink;
    beforeAll(async () => {
      db = await database();
      first = await PostgresAuditSink.open({ connectionString: db.url });
      await first.append(record(1));
      await first.close();
      second = await PostgresAuditSink.open({ connectionString: db.url });
      await second.append(record(2));
      await second.close();
    });

    it('ends its chain after a checkpoint pinned its last record, and later checkpoints leave it out', async () => {
      const ends = await db.sql<{ chain_id: string; seq: string }>(
        'SELECT chain_id, seq::text AS seq FROM signer_audit.chain_ends ORDER BY ended_at',
      );
      expect(ends).toEqual([
        { chain_id: first.chainId, seq: '1' },
        { chain_id: second.chainId, seq: '1' },
      ]);
      const [last] = await db.sql<{ record: string }>(
        'SELECT record FROM signer_audit.checkpoints ORDER BY seq DESC LIMIT 1',
      );
      expect(JSON.parse(last.record)).toMatchObject({ heads: [{ chainId: second.chainId, seq: 1 }] });
      await expect(verifyPostgresAudit(pool(db.url))).resolves.toMatchObject({ ok: true, count: 2 });
    });

    it('reports a record appended to an ended chain', async () => {
      const [row] = await db.sql<{ hash: string }>(
        'SELECT hash FROM signer_audit.chain_records WHERE chain_id = $1',
        [first.chainId],
      );
      const { rows } = chainRows({ seq: 1n, hash: row.hash }, [record(3)], () => undefined);
      const [added] = rows;
      await db.sql(
        `INSERT INTO signer_audit.chain_records (chain_id, seq, audit_id, recorded_at, tenant, outcome, prev_hash, hash, record)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          first.chainId,
          added.seq,
          added.auditId,
          added.recordedAt,
          added.tenant,
          added.outcome,
          added.prevHash,
          added.hash,
          added.record,
        ],
      );
      const check = await verifyPostgresAudit(pool(db.url));
      expect(!check.ok && check.reason).toContain(`chain ${first.chainId} ended at seq 1`);
    });
  });

  describe('when a writer claims a chain another writer holds', () => {
    it('refuses to open', async () => {
      const db = await database();
      const first = await PostgresAuditSink.open({ connectionString: db.url, chainId: 'replica-a' });
      const error = await refusal(PostgresAuditSink.open({ connectionString: db.url, chainId: 'replica-a' }));
      await first.close();
      expect(error).toMatchObject({ code: 'internal_error' });
      expect(error.message).toContain('audit chain replica-a is already claimed');
    });
  });

  describe('when a version 1 trail is migrated', () => {
    it('keeps its single chain as chain legacy, verified and exported with the new chains', async () => {
      const db = await database();
      const owner = pool(db.url);
      await migrateAuditSchema(owner, AUDIT_MIGRATIONS.slice(0, 1));
      const old = [record(1, { tenant: 'tenant-a' }), record(2, { tenant: 'tenant-b' })];
      const { rows } = chainRows(EMPTY_CHAIN, old, () => undefined);
      for (const row of rows) {
        await owner.query(
          `INSERT INTO signer_audit.records (seq, audit_id, recorded_at, tenant, outcome, prev_hash, hash, record)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [row.seq, row.auditId, row.recordedAt, row.tenant, row.outcome, row.prevHash, row.hash, row.record],
        );
      }
      await expect(migrateAuditSchema(owner)).resolves.toMatchObject({ from: 1, to: AUDIT_SCHEMA_VERSION });
      const sink = await PostgresAuditSink.open({ connectionString: db.url });
      const added = record(3, { tenant: 'tenant-a' });
      await sink.append(added);
      await sink.close();
      await expect(verifyPostgresAudit(owner)).resolves.toMatchObject({ ok: true, count: 3, chains: 2 });
      const [checkpoint] = await db.sql<{ record: string }>('SELECT record FROM signer_audit.checkpoints');
      expect(JSON.parse(checkpoint.record)).toMatchObject({
        heads: expect.arrayContaining([{ chainId: 'legacy', seq: 2, hash: rows[1].hash }]),
      });
      const exported: string[] = [];
      for await (const r of exportPostgresAudit(owner, { tenant: 'tenant-a', since: new Date(0) })) {
        exported.push(r.auditId);
      }
      expect(exported).toEqual([old[0].auditId, added.auditId]);
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
