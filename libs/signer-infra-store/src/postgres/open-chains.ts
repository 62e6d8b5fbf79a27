import type { Pool } from 'pg';
import { endChain, writeCheckpoint } from './audit-checkpoints';
import { readWriterChainHead } from './audit-rows';
import { CHAIN_ENDS_TABLE, CHAIN_RECORDS_TABLE, CHAINS_TABLE } from './migrations';
import { postgresAuditError } from './pg-errors';

/** A writer chain that has not been ended, as an operator reviews it. */
export interface OpenChain {
  chainId: string;
  /** The host and process id that claimed it (the replica to look for). */
  host: string;
  pid: number;
  openedAt: string;
  /** Its last record; seq 0 (no record yet) costs checkpoints nothing. */
  headSeq: number;
  lastRecordAt?: string;
  /** Seconds from its last record's `time` (the writer's clock) to PostgreSQL's `now()`. */
  idleSeconds?: number;
}

/**
 * Every open writer chain, oldest record first. A replica that died without shutting down (SIGKILL,
 * OOM) leaves its chain open, and every checkpoint lists an open chain: these are the candidates
 * for {@link endAbandonedChain}.
 */
export async function listOpenChains(pool: Pool): Promise<OpenChain[]> {
  const result = await pool
    .query<{
      chain_id: string;
      host: string;
      pid: number;
      opened_at: Date;
      seq: string | null;
      recorded_at: Date | null;
      idle: string | null;
    }>(
      `SELECT c.chain_id, c.host, c.pid, c.opened_at, h.seq::text AS seq, h.recorded_at,
              extract(epoch FROM now() - h.recorded_at)::text AS idle
       FROM ${CHAINS_TABLE} AS c
       LEFT JOIN LATERAL (SELECT seq, recorded_at FROM ${CHAIN_RECORDS_TABLE} AS r
         WHERE r.chain_id = c.chain_id ORDER BY seq DESC LIMIT 1) AS h ON true
       WHERE NOT EXISTS (SELECT FROM ${CHAIN_ENDS_TABLE} AS e WHERE e.chain_id = c.chain_id)
       ORDER BY h.recorded_at ASC NULLS FIRST, c.chain_id`,
    )
    .catch((cause: unknown) => {
      throw postgresAuditError('cannot read the PostgreSQL audit chains', cause);
    });
  return result.rows.map((row) => ({
    chainId: row.chain_id,
    host: row.host,
    pid: row.pid,
    openedAt: row.opened_at.toISOString(),
    headSeq: row.seq === null ? 0 : Number(row.seq),
    ...(row.recorded_at === null
      ? {}
      : { lastRecordAt: row.recorded_at.toISOString(), idleSeconds: Math.floor(Number(row.idle)) }),
  }));
}

/** What {@link endAbandonedChain} recorded. */
export interface EndedChain {
  chainId: string;
  seq: number;
  hash: string;
}

/** Why an operator's end of a chain was refused (the trail is left as it was). */
export class ChainEndRefusedError extends Error {
  override readonly name = 'ChainEndRefusedError';
}

/**
 * Ends the chain of a replica that died without shutting down, as its own close would have: a
 * checkpoint that lists its head, then its `chain_ends` row, so later checkpoints leave it out.
 * Refused for an unknown, ended or empty chain and for one that appended less than
 * `minIdleSeconds` ago. The operator must know its replica is gone (the chain id names its host
 * and pid): a live writer appending after the end makes `audit verify` report its chain. The end
 * is written in a transaction that reads the head again and rolls back if it moved.
 */
export async function endAbandonedChain(
  pool: Pool,
  chainId: string,
  options: { minIdleSeconds: number; operator: string },
): Promise<EndedChain> {
  const chain = (await listOpenChains(pool)).find((c) => c.chainId === chainId);
  if (chain === undefined)
    throw new ChainEndRefusedError(`chain ${chainId}: expected an open writer chain of this trail, got none`);
  if (chain.idleSeconds === undefined)
    throw new ChainEndRefusedError(`chain ${chainId} has no record: no checkpoint lists it, nothing to end`);
  if (chain.idleSeconds < options.minIdleSeconds)
    throw new ChainEndRefusedError(
      `chain ${chainId}: expected no record for at least ${options.minIdleSeconds} s, got one ${chain.idleSeconds} s ago (is ${chain.host} pid ${chain.pid} still running?)`,
    );
  // The head, then a checkpoint listing it (one connection at a time: the CLI's pool has one).
  const head = await readWriterChainHead(pool, chainId);
  const outcome = await writeCheckpoint(pool, { writer: options.operator, minIntervalMs: 0, wait: true });
  if (outcome !== 'written' && outcome !== 'unchanged')
    throw new ChainEndRefusedError(`chain ${chainId}: expected a checkpoint of its head, got ${outcome}`);
  const client = await pool.connect().catch((cause: unknown) => {
    throw postgresAuditError('cannot connect to the PostgreSQL audit database', cause);
  });
  try {
    await client.query('BEGIN');
    await endChain(client, chainId, head);
    const now = await readWriterChainHead(client, chainId);
    if (now.seq !== head.seq)
      throw new ChainEndRefusedError(
        `chain ${chainId}: expected its head to stay at seq ${head.seq}, got seq ${now.seq}: its replica is running`,
      );
    await client.query('COMMIT');
    return { chainId, seq: Number(head.seq), hash: head.hash };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error instanceof ChainEndRefusedError
      ? error
      : postgresAuditError(`cannot end chain ${chainId}`, error);
  } finally {
    client.release();
  }
}
