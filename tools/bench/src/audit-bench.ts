// `BENCH_AUDIT=1 npm run bench`: the PostgreSQL audit trail's throughput with 1, 3 and 30 writers
// (Signer replicas, simulated as PostgresAuditSink instances in up to three processes) against the
// machine's PostgreSQL, each case in a private database dropped afterwards. It answers whether the
// trail, not Redis, bounds how many replicas a fleet can run (docs/performance.md).
import { Client } from 'pg';
import { createAuditPool, migrateAuditSchema, verifyPostgresAudit } from '@signer/infra-store';
import { createThrowawayDatabase, TEST_POSTGRES_URL, type ThrowawayDatabase } from '@signer/testing';
import {
  auditProblems,
  formatAuditReport,
  summariseAuditCase,
  type AuditCaseRun,
  type AuditCaseSummary,
} from './audit-report';
import { writersPerProcess, type AuditBenchSettings } from './audit-settings';
import type { AuditWriterJob, AuditWriterResult } from './audit-writer';
import { busyOf, coreBusySeconds, cpuSeconds } from './cpu-time';
import { runJob } from './processes';

/** Time the writer processes get to start and open their sinks before appending begins. */
const START_DELAY_MS = 4000;
/** PostgreSQL backends report their counters when they exit; give the last ones time to. */
const STATS_SETTLE_MS = 1500;
/** Each sink commits one batch at a time (GroupCommit), so one connection is all it uses. */
const WRITER_POOL_SIZE = 1;

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function committedTransactions(database: string): Promise<number> {
  const client = new Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    const result = await client.query<{ commits: string }>(
      'SELECT xact_commit::text AS commits FROM pg_stat_database WHERE datname = $1',
      [database],
    );
    return Number(result.rows[0]?.commits ?? 0);
  } finally {
    await client.end();
  }
}

async function runCase(settings: AuditBenchSettings, writers: number): Promise<AuditCaseRun> {
  const db: ThrowawayDatabase = await createThrowawayDatabase('signer_audit_bench');
  try {
    const owner = createAuditPool({ connectionString: db.url, poolSize: 1 });
    const schema = await migrateAuditSchema(owner);
    await owner.end();
    await sleep(STATS_SETTLE_MS);
    const commitsBefore = await committedTransactions(db.name);
    const split = writersPerProcess(writers);
    const startAt = Date.now() + START_DELAY_MS;
    const job = (count: number): AuditWriterJob => ({
      url: db.url,
      writers: count,
      inFlight: settings.inFlight,
      poolSize: WRITER_POOL_SIZE,
      startAt,
      warmupMs: settings.warmupSeconds * 1000,
      windowMs: settings.seconds * 1000,
    });
    const windowStart = startAt + settings.warmupSeconds * 1000;
    const busy: number[] = [];
    const backends = new Map<number, number>();
    let postgresCpuMs = 0;
    const sampler = [
      setTimeout(() => {
        busy.push(busyOf(coreBusySeconds(), undefined));
        void backendPids(db.name).then((pids) => {
          for (const pid of pids) backends.set(pid, cpuSecondsOrZero(pid));
        });
      }, windowStart - Date.now()),
      setTimeout(
        () => {
          busy.push(busyOf(coreBusySeconds(), undefined));
          for (const [pid, before] of backends) {
            const after = cpuSecondsOrZero(pid);
            if (after > 0) postgresCpuMs += (after - before) * 1000;
          }
        },
        windowStart + settings.seconds * 1000 - Date.now(),
      ),
    ];
    const timeoutMs = START_DELAY_MS + (settings.warmupSeconds + settings.seconds) * 1000 + 60_000;
    let results: AuditWriterResult[];
    try {
      results = await Promise.all(
        split.map((count) =>
          runJob<AuditWriterJob, AuditWriterResult>({ role: 'audit-writer', job: job(count), timeoutMs }),
        ),
      );
    } finally {
      sampler.forEach(clearTimeout);
    }
    await sleep(STATS_SETTLE_MS);
    const commits = (await committedTransactions(db.name)) - commitsBefore;
    // Opening a sink reads the schema version: one committed transaction each, not an append.
    const appendCommits = commits - writers;
    const late = Math.max(...results.map((r) => r.lateMs));
    if (late > 0)
      log(`${writers} writers: a writer process was ready ${late} ms late; its warm-up was shorter`);
    const reader = createAuditPool({ connectionString: db.url, poolSize: 1 });
    try {
      // Both tables: version 1 wrote `records` only, version 2 one chain per writer.
      const count = async (table: string) =>
        Number(
          (await reader.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`)).rows[0]?.n ?? 0,
        );
      const rows =
        (await count('signer_audit.records')) + (await count('signer_audit.chain_records').catch(() => 0));
      const check = await verifyPostgresAudit(reader);
      const [from, to] = busy;
      return {
        writers,
        schemaVersion: schema.to,
        processes: split.length,
        windowSeconds: settings.seconds,
        results,
        rows: Number(rows),
        commits: appendCommits,
        ...(backends.size > 0 ? { postgresCpuMs } : {}),
        ...(from !== undefined && to !== undefined
          ? { machineBusy: (to - from) / settings.seconds / coreCount() }
          : {}),
        verified: check.ok ? { ok: true, count: check.count } : { ok: false, reason: check.reason },
      };
    } finally {
      await reader.end();
    }
  } finally {
    await db.drop();
  }
}

/** The PostgreSQL backends serving the case's database (the writers' connections). */
async function backendPids(database: string): Promise<number[]> {
  const client = new Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    const result = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1',
      [database],
    );
    return result.rows.map((row) => row.pid);
  } finally {
    await client.end();
  }
}

/** A backend that ended inside the window reads 0 and is left out by the caller's difference. */
function cpuSecondsOrZero(pid: number): number {
  try {
    return cpuSeconds(pid);
  } catch {
    return 0;
  }
}

function coreCount(): number {
  return Object.keys(coreBusySeconds()).filter((core) => core !== 'all').length;
}

/** What the measured schema version writes (migrations.ts). */
function designOf(cases: readonly AuditCaseSummary[]): string {
  const version = cases[0]?.schemaVersion ?? 0;
  return version >= 2
    ? `schema v${version}: one chain per writer, checkpoint chain every 1 s`
    : `schema v${version}: one global chain under one advisory lock`;
}

/** Runs every case, prints the table; exit code 1 when an append failed or a trail does not verify. */
export async function runAuditBench(settings: AuditBenchSettings): Promise<number> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const cases: AuditCaseSummary[] = [];
  for (const writers of settings.writers) {
    log(`audit: ${writers} writers, ${settings.inFlight} in flight each, ${settings.seconds} s…`);
    cases.push(summariseAuditCase(await runCase(settings, writers)));
  }
  process.stdout.write(
    formatAuditReport({
      cases,
      inFlight: settings.inFlight,
      replicaRps: settings.replicaRps,
      design: designOf(cases),
    }),
  );
  const problems = auditProblems(cases);
  if (problems.length === 0) return 0;
  process.stderr.write(`\nbench: audit FAILED\n  ${problems.join('\n  ')}\n`);
  return 1;
}
