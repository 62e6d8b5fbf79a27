// The figures the bench passes between its processes, its summary and its report; the summary
// (`Results`) is also what tmp/bench/latest.json holds.
import type { VariantName } from './variants';

export interface LatencyMs {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface ProofStats {
  poolSize: number;
  used: number;
  madeInWindow: number;
}

/** What the load generator process reports for one run. */
export interface LoadResult {
  seconds: number;
  requests: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  statuses: Record<string, number>;
  failures: { status: number; body: string }[];
  latencyMs: LatencyMs;
  /** Share of its core the generator used over the run. */
  generatorCpu: number;
  proofGenerationMs: number;
  proofs: ProofStats;
  auditIds: string[];
}

export interface ThreadCpu {
  user: number;
  system: number;
}

/** A load run with the CPU figures sampled around its window (shares of a core, ms per request). */
export interface DrivenRun extends Omit<LoadResult, 'auditIds'> {
  rps: number;
  serverCpu: number;
  serverCpuMsPerRequest: number;
  serverThreadsMsPerRequest: { main: ThreadCpu; others: ThreadCpu };
  /** Share of the service core other processes took. */
  foreignCpu: number;
  /** Share of the load core other processes took (pinned runs only). */
  loadCoreForeignCpu?: number;
  upstreamCpu?: Record<string, number>;
  upstreamCpuMsPerRequest?: Record<string, number>;
  unpinnedUpstreamCpu?: number;
}

/** The service's own counters from `/metrics`. */
export interface ServiceCounters {
  requests: number;
  signed: number;
  cacheHits: Record<string, number>;
}

/**
 * Requests the loopback fakes received (only the fakes a variant runs); with a variant's own Redis,
 * its commands, their execution time and its socket reads (upstream-stats.ts); with a PostgreSQL
 * audit trail, its database's commits and backend CPU, and (in `total`) the run's audit records.
 */
export type UpstreamCounters = Partial<
  Record<
    | 'fulcioCalls'
    | 'fulcioIssued'
    | 'kmsCalls'
    | 'kmsSignCalls'
    | 'kmsErrors'
    | 'registryRequests'
    | 'redisCommands'
    | 'redisCommandUsec'
    | 'redisReads'
    | 'auditCommits'
    | 'auditRecords'
    | 'postgresCpuMs',
    number
  >
>;

export interface AuditCheck {
  /** Records in the file, when its hash chain verifies. */
  records?: number;
  outcomes: Record<string, number>;
  acknowledged: number;
  unacknowledged: number;
  problems: string[];
}

/** A signer load run with the service's and the fakes' counters over its window. */
export interface SignerRun extends DrivenRun {
  window: ServiceCounters & { tokenCache: { hits: number; notFromCache: number } };
  upstream: { window: UpstreamCounters; total: UpstreamCounters };
}

/** One floor (b) loop with `lanes` operations in flight. */
export interface CryptoLane {
  lanes: number;
  ops: number;
  seconds: number;
  opsPerSecond: number;
  cpuUsPerOp: number;
  foreignCpu: number;
}

export interface Round {
  signer: SignerRun & { warmup: DrivenRun; audit: AuditCheck };
  floorA: DrivenRun & { warmup: DrivenRun };
  /** In flight as many as the load has connections, then one at a time. */
  floorB: CryptoLane[];
}

export interface Check {
  what: string;
  ok: boolean;
}

export type VariantVerdict = 'PASS' | 'BELOW' | 'FAILED' | 'no target';

interface VariantSummaryBase {
  name: VariantName;
  configures: string;
  switched?: string;
  round: number;
  target?: number;
  base: Pick<SignerRun, 'rps' | 'latencyMs' | 'serverCpuMsPerRequest'> & {
    tokenCache: SignerRun['window']['tokenCache'];
  };
}

export interface FailedVariant extends VariantSummaryBase {
  verdict: 'FAILED';
  error: string;
}

export interface MeasuredVariant extends VariantSummaryBase {
  error?: undefined;
  ratio: number;
  cpuRatio: number;
  verdict: VariantVerdict;
  disturbed: boolean;
  foreignCpu: number;
  checks: Check[];
  signer: SignerRun & { warmup: DrivenRun; audit: AuditCheck };
}

export type VariantSummary = FailedVariant | MeasuredVariant;

export interface Settings {
  seconds: number;
  warmupSeconds: number;
  cryptoSeconds: number;
  connections: number;
  rounds: number;
  pinned: boolean;
  cpuProfile: boolean;
  keep: boolean;
}

/** The headline figures and verdicts of a run. */
export interface Summary {
  settings: Settings & { variants: string[] };
  signer: Round['signer'];
  floorA: Round['floorA'];
  floorB: CryptoLane[];
  combinedFloorRps: number;
  ratio: number;
  target: number;
  verdict: 'PASS' | 'BELOW' | 'INVALID';
  disturbed: boolean;
  roundRatios: number[];
  roundsDisturbed: boolean[];
  roundsUsed: number;
  hostSlowdown: number;
  rounds?: Round[];
  variants: VariantSummary[];
  failures: string[];
}

export interface Results extends Summary {
  date: string;
  machine: { cpus: number; model?: string; node: string; kernel: string; auditFs: string };
  source: { commit: string; dirty: boolean };
}
