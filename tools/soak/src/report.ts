import { recoveryMs, type CheckRow, type ReplicaFigures } from './checks';
import type { Exchange } from './ledger';
import type { FaultWindow } from './phases';

export interface PhaseRow {
  fault: string;
  cycle: number;
  seconds: number;
  requests: number;
  ok: number;
  unavailable: number;
  /** `Retry-After` values the 503s carried. */
  retryAfter: string;
  other: string;
  recoverySeconds: number;
  readyz: string;
  upstreamErrors: string;
  notes: string;
}

export interface SoakReport {
  startedAt: string;
  durationSeconds: number;
  settings: Record<string, number>;
  exchanges: number;
  signed: number;
  latencyMs: { p50: number; p95: number; p99: number };
  checks: CheckRow[];
  phases: PhaseRow[];
  figures: ReplicaFigures[];
  passed: boolean;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function countBy(values: string[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([value, count]) => `${value}×${count}`)
    .join(' ');
}

export function phaseRows(windows: FaultWindow[], exchanges: Exchange[], replicas: string[]): PhaseRow[] {
  return windows.map((w) => {
    const during = exchanges.filter((e) => e.start >= w.start && e.start < w.clearAt);
    const others = during.filter(
      (e) => e.status !== 200 && !(e.status === 503 && e.code === 'upstream_unavailable'),
    );
    return {
      fault: w.name,
      cycle: w.cycle,
      seconds: Math.round((w.clearAt - w.start) / 100) / 10,
      requests: during.length,
      ok: during.filter((e) => e.status === 200).length,
      unavailable: during.filter((e) => e.status === 503).length,
      retryAfter: countBy(during.filter((e) => e.status === 503).map((e) => e.retryAfter ?? 'none')),
      other: countBy(others.map((e) => (e.status === 0 ? 'no-answer' : `${e.status}:${e.code}`))),
      recoverySeconds: Math.round(recoveryMs(w, exchanges, replicas) / 10) / 100,
      readyz: Object.entries(w.readyz)
        .map(([name, state]) => `${name}:${state}`)
        .join(' | '),
      upstreamErrors: Object.entries(w.upstreamErrors)
        .map(([name, count]) => `${name}+${count}`)
        .join(' '),
      notes: w.notes.join('; '),
    };
  });
}

export function latencies(exchanges: Exchange[], windows: FaultWindow[]): SoakReport['latencyMs'] {
  const steady = exchanges
    .filter((e) => e.status === 200 && !windows.some((w) => e.end >= w.injectAt && e.start < w.end))
    .map((e) => e.end - e.start)
    .sort((a, b) => a - b);
  return { p50: percentile(steady, 50), p95: percentile(steady, 95), p99: percentile(steady, 99) };
}

/** A plain text table, columns padded to their widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function renderReport(report: SoakReport): string {
  const checks = table(
    ['check', 'expected', 'observed', 'result'],
    report.checks.map((c) => [c.check, c.expected, c.observed, c.pass ? 'PASS' : 'FAIL']),
  );
  const phases = table(
    [
      'fault',
      'cycle',
      's',
      'requests',
      '200',
      '503',
      'Retry-After',
      'other',
      'recovery s',
      'readyz mid-fault',
      'upstream errors',
      'notes',
    ],
    report.phases.map((p) => [
      p.fault,
      String(p.cycle),
      p.seconds.toFixed(1),
      String(p.requests),
      String(p.ok),
      String(p.unavailable),
      p.retryAfter || '-',
      p.other || '-',
      p.recoverySeconds.toFixed(2),
      p.readyz,
      p.upstreamErrors || '-',
      p.notes || '-',
    ]),
  );
  const figures = report.figures
    .map((f) => `${f.replica}: RSS ${f.start.rssMb} → ${f.end.rssMb} MB, fds ${f.start.fds} → ${f.end.fds}`)
    .join('; ');
  return [
    `soak: ${report.durationSeconds.toFixed(0)} s, ${report.exchanges} exchanges, ${report.signed} signed; ` +
      `steady 200 latency p50 ${report.latencyMs.p50} ms, p95 ${report.latencyMs.p95} ms, p99 ${report.latencyMs.p99} ms`,
    `replicas: ${figures}`,
    '',
    checks,
    '',
    phases,
    '',
    `soak ${report.passed ? 'PASSED' : 'FAILED'}: ${report.checks.filter((c) => c.pass).length} of ${report.checks.length} checks`,
  ].join('\n');
}
