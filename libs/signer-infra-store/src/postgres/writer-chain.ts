import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Pool } from 'pg';
import { SignerError } from '@signer/core';
import { CHAINS_TABLE } from './migrations';
import { postgresAuditError, sqlState } from './pg-errors';

/** How often a writer with new records checkpoints every open chain's head (audit.checkpointIntervalMs). */
export const DEFAULT_AUDIT_CHECKPOINT_INTERVAL_MS = 1000;
export const MAX_AUDIT_CHECKPOINT_INTERVAL_MS = 60_000;
const UNIQUE_VIOLATION = '23505';

/**
 * A chain id new at every process start (host, pid, random suffix): a restarted replica never
 * continues a chain whose last INSERT may still be in doubt, and ids say where a record came from.
 */
export function newChainId(): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9.-]/g, '-')
    .slice(0, 80);
  return `${host}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export function requireCheckpointIntervalMs(value: number): number {
  if (!Number.isInteger(value) || value < 100 || value > MAX_AUDIT_CHECKPOINT_INTERVAL_MS) {
    throw new RangeError(
      `checkpointIntervalMs: expected an integer in [100, ${MAX_AUDIT_CHECKPOINT_INTERVAL_MS}], got ${String(value)}`,
    );
  }
  return value;
}

/** Registers the chain; its primary key makes sure no two writers ever append to the same one. */
export async function claimChain(pool: Pool, chainId: string): Promise<void> {
  try {
    await pool.query(`INSERT INTO ${CHAINS_TABLE} (chain_id, host, pid) VALUES ($1, $2, $3)`, [
      chainId,
      hostname(),
      process.pid,
    ]);
  } catch (cause) {
    if (sqlState(cause) === UNIQUE_VIOLATION) {
      throw new SignerError('internal_error', `audit chain ${chainId} is already claimed by another writer`, {
        cause,
      });
    }
    throw postgresAuditError('cannot register the audit chain', cause);
  }
}
