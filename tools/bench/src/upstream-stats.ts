// Counters of the variant runs' shared state, read around the window like the fakes' counters:
// Redis (`INFO commandstats` and `INFO stats` of the variant's own redis-server) and the audit
// database (pg_stat_database and its backends' CPU). docs/performance.md, "Scale-out model".
import { Client } from 'pg';
import Redis from 'ioredis';
import { TEST_POSTGRES_URL } from '@signer/testing';
import { cpuSeconds } from './cpu-time';
import type { UpstreamCounters } from './types';

/** The bench's own commands, left out of the Signer's figures. */
const BENCH_COMMANDS = new Set(['info']);

/**
 * Commands the Signer sent (every `cmdstat_*` but the bench's INFO, calls made from scripts
 * included: a script's EVALSHA counts once plus once per command it runs), the microseconds Redis
 * spent executing them, and socket reads — a round trip is one read, but commands of concurrent
 * requests that arrive together share one, so reads are a lower bound on round trips.
 */
export function parseRedisInfo(
  text: string,
): Required<Pick<UpstreamCounters, 'redisCommands' | 'redisCommandUsec' | 'redisReads'>> {
  let redisCommands = 0;
  let redisCommandUsec = 0;
  let redisReads = 0;
  for (const line of text.split(/\r?\n/)) {
    const command = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (command) {
      if (BENCH_COMMANDS.has(command[1] ?? '')) continue;
      redisCommands += Number(command[2]);
      redisCommandUsec += Number(command[3]);
    }
    const reads = /^total_reads_processed:(\d+)/.exec(line);
    if (reads) redisReads = Number(reads[1]);
  }
  return { redisCommands, redisCommandUsec, redisReads };
}

export async function readRedisCounters(url: string): Promise<UpstreamCounters> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  try {
    await client.connect();
    return parseRedisInfo(`${await client.info('commandstats')}\n${await client.info('stats')}`);
  } finally {
    client.disconnect();
  }
}

/** Transactions committed in `database`, and the CPU its backends (the Signer's pool) used so far. */
export async function readPostgresCounters(database: string): Promise<UpstreamCounters> {
  const client = new Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    const stats = await client.query<{ commits: string }>(
      'SELECT xact_commit::text AS commits FROM pg_stat_database WHERE datname = $1',
      [database],
    );
    const backends = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1',
      [database],
    );
    let postgresCpuMs = 0;
    for (const { pid } of backends.rows) {
      try {
        postgresCpuMs += cpuSeconds(pid) * 1000;
      } catch {
        // The backend ended between the listing and the read.
      }
    }
    return { auditCommits: Number(stats.rows[0]?.commits ?? 0), postgresCpuMs };
  } finally {
    await client.end();
  }
}

/** Audit records in the database's trail (every chain, version 1's table included). */
export async function countAuditRecords(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const count = async (table: string) =>
      Number((await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`)).rows[0]?.n ?? 0);
    return (await count('signer_audit.records')) + (await count('signer_audit.chain_records'));
  } finally {
    await client.end();
  }
}
