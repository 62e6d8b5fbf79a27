import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Pool } from 'pg';
import type { AuditRecord } from '@signer/core';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@signer/testing';
import { auditRecord } from '../../test/audit-records';
import { chainRows, EMPTY_CHAIN } from './audit-rows';
import { ChainEndRefusedError, endAbandonedChain, listOpenChains } from './open-chains';
import { createAuditPool, PostgresAuditSink } from './postgres-audit-sink';
import { verifyPostgresAudit } from './postgres-audit-trail';
import { claimChain } from './writer-chain';

const record = (n: number, time: string): AuditRecord => ({
  ...auditRecord(n),
  auditId: `${auditRecord(n).auditId}-${n}-${time}`,
  time,
});

/**
 * A replica that died without shutting down (SIGKILL, OOM): its chain claimed and appended to,
 * never ended — written as its sink would have, then left.
 */
async function deadChain(db: ThrowawayDatabase, pool: Pool, chainId: string, times: string[]): Promise<void> {
  await claimChain(pool, chainId);
  const { rows } = chainRows(
    EMPTY_CHAIN,
    times.map((time, i) => record(100 + i, time)),
    () => undefined,
  );
  for (const row of rows) {
    await db.sql(
      `INSERT INTO signer_audit.chain_records (chain_id, seq, audit_id, recorded_at, tenant, outcome, prev_hash, hash, record)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        chainId,
        row.seq,
        row.auditId,
        row.recordedAt,
        row.tenant,
        row.outcome,
        row.prevHash,
        row.hash,
        row.record,
      ],
    );
  }
}

const lastCheckpointChains = async (db: ThrowawayDatabase): Promise<string[]> => {
  const [last] = await db.sql<{ record: string }>(
    'SELECT record FROM signer_audit.checkpoints ORDER BY seq DESC LIMIT 1',
  );
  return (JSON.parse(last.record) as { heads: Array<{ chainId: string }> }).heads.map((h) => h.chainId);
};

describe('open writer chains (real PostgreSQL)', () => {
  let db: ThrowawayDatabase;
  let pool: Pool;
  let live: PostgresAuditSink;
  const operator = { minIdleSeconds: 600, operator: 'operator-test' };
  const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString();

  beforeAll(async () => {
    db = await createThrowawayDatabase('signer_open_chains');
    live = await PostgresAuditSink.open({ connectionString: db.url });
    pool = createAuditPool({ connectionString: db.url, poolSize: 2 });
    await live.append(record(1, new Date().toISOString()));
    await deadChain(db, pool, 'crashed-host-4242-0a0b0c0d', [hourAgo(), hourAgo()]);
    await live.append(record(2, new Date().toISOString()));
  }, 30_000);
  afterAll(async () => {
    await live?.close().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    await db?.drop();
  });

  it('lists every open chain, the longest idle first, with its host, pid and head', async () => {
    const chains = await listOpenChains(pool);
    expect(chains.map((c) => c.chainId)).toEqual(['crashed-host-4242-0a0b0c0d', live.chainId]);
    expect(chains[0]).toMatchObject({ headSeq: 2, idleSeconds: expect.any(Number) });
    expect(chains[0]?.idleSeconds).toBeGreaterThanOrEqual(3590);
    expect(chains[1]).toMatchObject({ headSeq: 2 });
    expect(chains[1]?.idleSeconds).toBeLessThan(600);
  });

  it('refuses to end a chain that appended within --min-idle-seconds, an unknown one, and leaves no end', async () => {
    await expect(endAbandonedChain(pool, live.chainId, operator)).rejects.toThrow(
      new RegExp(
        `chain ${live.chainId}: expected no record for at least 600 s, got one \\d+ s ago \\(is .+ pid \\d+ still running\\?\\)`,
      ),
    );
    await expect(endAbandonedChain(pool, 'no-such-chain', operator)).rejects.toBeInstanceOf(
      ChainEndRefusedError,
    );
    await expect(db.sql('SELECT chain_id FROM signer_audit.chain_ends')).resolves.toEqual([]);
  });

  it("ends a crashed replica's chain at its head: later checkpoints leave it out, and the trail verifies", async () => {
    await expect(endAbandonedChain(pool, 'crashed-host-4242-0a0b0c0d', operator)).resolves.toMatchObject({
      chainId: 'crashed-host-4242-0a0b0c0d',
      seq: 2,
    });
    // The checkpoint the end waited for lists the dead chain's head, written by the operator.
    const [pinned] = await db.sql<{ writer: string }>(
      'SELECT writer FROM signer_audit.checkpoints ORDER BY seq DESC LIMIT 1',
    );
    expect(pinned.writer).toBe('operator-test');
    await expect(lastCheckpointChains(db)).resolves.toContain('crashed-host-4242-0a0b0c0d');

    await live.append(record(3, new Date().toISOString()));
    await live.close();
    await expect(lastCheckpointChains(db)).resolves.toEqual([live.chainId]);
    expect((await listOpenChains(pool)).map((c) => c.chainId)).toEqual([]);
    await expect(verifyPostgresAudit(pool)).resolves.toMatchObject({ ok: true, count: 5, chains: 3 }); // with legacy
    await expect(endAbandonedChain(pool, 'crashed-host-4242-0a0b0c0d', operator)).rejects.toThrow(
      'chain crashed-host-4242-0a0b0c0d: expected an open writer chain of this trail, got none',
    );
  });
});
