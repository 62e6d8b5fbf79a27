import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@signer/testing';
import { auditRecord } from '../../test/audit-records';
import { refusal } from '../../test/refusal';
import { FileAuditLookup } from '../file/file-audit-lookup';
import { FileAuditSink } from '../file/file-audit-sink';
import { AUDIT_WRITER_ROLE } from '../postgres/migrations';
import { PostgresAuditLookup } from '../postgres/postgres-audit-lookup';
import { PostgresAuditSink } from '../postgres/postgres-audit-sink';

describe('audit lookups (which audit ids the trail holds)', () => {
  describe('PostgresAuditLookup', () => {
    let db: ThrowawayDatabase;
    beforeAll(async () => {
      db = await createThrowawayDatabase('signer_lookup_test');
    });
    afterAll(async () => {
      await db?.drop();
    }, 60_000);

    it('answers the committed ids among those asked, for a login that holds only the writer role', async () => {
      const owner = await PostgresAuditSink.open({ connectionString: db.url });
      await owner.close();
      const url = db.urlAs(await db.createLoginRole([AUDIT_WRITER_ROLE]));
      const sink = await PostgresAuditSink.open({ connectionString: url });
      const lookup = PostgresAuditLookup.open({ connectionString: url });
      try {
        await sink.append(auditRecord(1));
        await sink.append(auditRecord(2));
        const found = await lookup.recorded([auditRecord(2).auditId, auditRecord(3).auditId]);
        expect([...found]).toEqual([auditRecord(2).auditId]);
        expect((await lookup.recorded([])).size).toBe(0);
      } finally {
        await sink.close();
        await lookup.close();
      }
    });

    it('refuses with upstream_unavailable (audit) when PostgreSQL cannot answer', async () => {
      const lookup = PostgresAuditLookup.open({
        connectionString: db.urlAs('postgres', '127.0.0.1', 1),
        connectTimeoutMs: 500,
      });
      try {
        const error = await refusal(lookup.recorded(['x']));
        expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'audit' });
      } finally {
        await lookup.close();
      }
    });
  });

  describe('FileAuditLookup', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'audit-lookup-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('answers the ids the file holds, and none for a file not written yet', async () => {
      const filePath = join(dir, 'audit.jsonl');
      const lookup = new FileAuditLookup(filePath);
      expect((await lookup.recorded([auditRecord(1).auditId])).size).toBe(0);
      const sink = await FileAuditSink.open({ filePath });
      for (const n of [1, 2, 3]) await sink.append(auditRecord(n));
      await sink.close();
      const found = await lookup.recorded([auditRecord(3).auditId, auditRecord(1).auditId, 'audit-9999']);
      expect([...found].sort()).toEqual([auditRecord(1).auditId, auditRecord(3).auditId]);
    });
  });
});
