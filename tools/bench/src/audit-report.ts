// The audit bench's figures and its printed table: records/s, commits, rows per commit and append
// latency per writer count, and how many signing replicas that trail carries.
import { int, ms, pct } from './format';
import { mergeHistograms, percentileMs } from './latency-histogram';

/** What one case (one writer count) measured, from its writer processes and PostgreSQL. */
export interface AuditCaseRun {
  writers: number;
  /** The audit schema version the case ran on (migrations.ts). */
  schemaVersion: number;
  processes: number;
  windowSeconds: number;
  /** Per writer process: appends acknowledged in the window, failures, latency histogram. */
  results: { appended: number; failed: number; histogram: number[]; cpuMs: number; firstError?: string }[];
  /** Over the whole case (warm-up, window, drain): rows in the trail and transactions committed. */
  rows: number;
  commits: number;
  /** Share of the machine's cores busy over the window (all processes, PostgreSQL included). */
  machineBusy?: number;
  /** CPU the case's PostgreSQL backends used over the window (ms). */
  postgresCpuMs?: number;
  /** The trail verified after the case (chain and seq), with its record count. */
  verified: { ok: boolean; count?: number; reason?: string };
}

export interface AuditCaseSummary {
  writers: number;
  schemaVersion: number;
  processes: number;
  recordsPerSecond: number;
  commitsPerSecond: number;
  rowsPerCommit: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  firstError?: string;
  machineBusy?: number;
  /** CPU per 1 000 records acknowledged in the window (ms): the writers', PostgreSQL's backends'. */
  writerCpuMsPer1k: number;
  postgresCpuMsPer1k?: number;
  verified: AuditCaseRun['verified'];
}

const perThousand = (ms: number, records: number): number => (records > 0 ? (ms / records) * 1000 : 0);

/** Records/s one PostgreSQL core sustains at this case's backend CPU per record; undefined without it. */
export const recordsPerPostgresCore = (c: AuditCaseSummary): number | undefined =>
  c.postgresCpuMsPer1k ? 1_000_000 / c.postgresCpuMsPer1k : undefined;

export function summariseAuditCase(run: AuditCaseRun): AuditCaseSummary {
  const appended = run.results.reduce((sum, r) => sum + r.appended, 0);
  const histogram = mergeHistograms(run.results.map((r) => r.histogram));
  const recordsPerSecond = appended / run.windowSeconds;
  // Commits are counted over the whole case; the window's share follows from the rows per commit.
  const rowsPerCommit = run.commits > 0 ? run.rows / run.commits : 0;
  const firstError = run.results.find((r) => r.firstError !== undefined)?.firstError;
  return {
    writers: run.writers,
    schemaVersion: run.schemaVersion,
    processes: run.processes,
    recordsPerSecond,
    commitsPerSecond: rowsPerCommit > 0 ? recordsPerSecond / rowsPerCommit : 0,
    rowsPerCommit,
    p50Ms: percentileMs(histogram, 0.5),
    p99Ms: percentileMs(histogram, 0.99),
    failed: run.results.reduce((sum, r) => sum + r.failed, 0),
    ...(firstError === undefined ? {} : { firstError }),
    ...(run.machineBusy === undefined ? {} : { machineBusy: run.machineBusy }),
    writerCpuMsPer1k: perThousand(
      run.results.reduce((sum, r) => sum + r.cpuMs, 0),
      appended,
    ),
    ...(run.postgresCpuMs === undefined
      ? {}
      : { postgresCpuMsPer1k: perThousand(run.postgresCpuMs, appended) }),
    verified: run.verified,
  };
}

/** Problems that make the audit bench fail: failed appends, an unverifiable trail. */
export function auditProblems(cases: readonly AuditCaseSummary[]): string[] {
  return cases.flatMap((c) => [
    ...(c.failed > 0 ? [`${c.writers} writers: ${c.failed} appends failed (${c.firstError ?? '?'})`] : []),
    ...(c.verified.ok
      ? []
      : [`${c.writers} writers: the trail does not verify: ${c.verified.reason ?? '?'}`]),
  ]);
}

export interface AuditReportInput {
  cases: readonly AuditCaseSummary[];
  inFlight: number;
  /** Signed requests per second one replica serves (one core), from docs/performance.md. */
  replicaRps: number;
  design: string;
}

export function formatAuditReport({ cases, inFlight, replicaRps, design }: AuditReportInput): string {
  const header = [
    'writers',
    'processes',
    'records/s',
    'commits/s',
    'rows/commit',
    'p50 / p99',
    'machine CPU',
    'CPU/1k rec: writers, PG',
    'rec/s per PG core',
    'replicas carried',
  ];
  const rows = cases.map((c) => [
    String(c.writers),
    String(c.processes),
    int(c.recordsPerSecond),
    int(c.commitsPerSecond),
    c.rowsPerCommit.toFixed(1),
    `${ms(c.p50Ms)} / ${ms(c.p99Ms)}`,
    c.machineBusy === undefined ? '—' : pct(c.machineBusy),
    `${int(c.writerCpuMsPer1k)} ms, ${c.postgresCpuMsPer1k === undefined ? '—' : `${int(c.postgresCpuMsPer1k)} ms`}`,
    int(recordsPerPostgresCore(c) ?? 0),
    (c.recordsPerSecond / replicaRps).toFixed(1),
  ]);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    `    ${row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()}`;
  return [
    '',
    `  PostgreSQL audit trail (${design}): each writer is one PostgresAuditSink with a pool of its own,`,
    `  ${inFlight} appends in flight per writer, each lane waiting for its acknowledgement (as a request waits for`,
    '  its row before its 200). records/s and latency over the window; rows/commit over the whole case',
    '  (pg_stat_database xact_commit of the private database); commits/s = records/s ÷ rows/commit.',
    '  CPU per 1 000 records in the window: the writer processes (on replicas in production) and the',
    "  case's PostgreSQL backends; rec/s per PG core = 1 000 000 ÷ PG ms per 1 000 records: what the",
    '  database sustains per core once the writers run elsewhere and nothing serialises them.',
    `  replicas carried = records/s ÷ ${int(replicaRps)} signed/s per replica (at this machine's records/s).`,
    '',
    line(header),
    ...rows.map(line),
    '',
    ...cases.map(
      (c) =>
        `    ${c.writers} writers: ${c.failed} failed appends; trail ${c.verified.ok ? `verifies (${int(c.verified.count ?? 0)} records)` : `BROKEN: ${c.verified.reason ?? '?'}`}`,
    ),
    '',
  ].join('\n');
}
