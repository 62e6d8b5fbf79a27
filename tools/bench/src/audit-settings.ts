// The audit bench's settings (BENCH_AUDIT=1 npm run bench; docs/performance.md).
import { numberSetting } from './settings';

/** One replica's signed requests per second on one core (docs/performance.md, Figures, 2026-11-28). */
export const DEFAULT_REPLICA_RPS = 1512;
/** Writer processes at most: the machine has two cores, and PostgreSQL needs its share. */
export const MAX_WRITER_PROCESSES = 3;

export interface AuditBenchSettings {
  /** Writer counts measured, one case each, in order. */
  writers: number[];
  inFlight: number;
  seconds: number;
  warmupSeconds: number;
  replicaRps: number;
}

/** `BENCH_AUDIT_WRITERS`: a comma list of writer counts (default 1,3,30). */
export function parseWriterCounts(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === '') return [1, 3, 30];
  const counts = raw.split(',').map((part) => Number(part.trim()));
  if (counts.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) {
    throw new Error(`BENCH_AUDIT_WRITERS: expected a comma list of integers in [1, 64], got ${raw}`);
  }
  return counts;
}

/** Writers spread over processes as evenly as possible (one writer per process up to the cap). */
export function writersPerProcess(writers: number, maxProcesses = MAX_WRITER_PROCESSES): number[] {
  const processes = Math.min(writers, maxProcesses);
  return Array.from(
    { length: processes },
    (_, i) => Math.floor(writers / processes) + (i < writers % processes ? 1 : 0),
  );
}

export function readAuditSettings(env: NodeJS.ProcessEnv): AuditBenchSettings {
  return {
    writers: parseWriterCounts(env['BENCH_AUDIT_WRITERS']),
    inFlight: Math.round(numberSetting(env, 'BENCH_AUDIT_IN_FLIGHT', 32, 1024)),
    seconds: numberSetting(env, 'BENCH_AUDIT_SECONDS', 10, 120),
    warmupSeconds: numberSetting(env, 'BENCH_AUDIT_WARMUP_SECONDS', 2, 30),
    replicaRps: numberSetting(env, 'BENCH_AUDIT_REPLICA_RPS', DEFAULT_REPLICA_RPS, 1_000_000),
  };
}
