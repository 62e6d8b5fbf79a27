// Measured figures as data for the summary and report tests: one round is described by the few
// numbers a test varies, the rest are plausible constants.
import type { AuditCheck, CryptoLane, DrivenRun, Round, SignerRun } from './types';

export interface RoundFigures {
  signerRps: number;
  noopRps: number;
  cryptoOps: number;
  /** Share of the service core other processes took in the signer run. */
  foreign?: number;
  /** Floor (b)'s CPU per op, µs. */
  cryptoCpuUs?: number;
  signerCpuMs?: number;
}

/** A variant as the report and summary tests name it: redis stores, with a target of 0.8. */
export const redisVariant = {
  name: 'redis',
  configures: 'quotas.store: redis',
  switched: 'quota gate',
  target: 0.8,
} as const;

export const cleanAudit = (acknowledged = 1000): AuditCheck => ({
  records: acknowledged + 3,
  outcomes: { signed: acknowledged + 2 },
  acknowledged,
  unacknowledged: 2,
  problems: [],
});

export function drivenRun(rps: number, overrides: Partial<DrivenRun> = {}): DrivenRun {
  return {
    seconds: 10,
    requests: rps * 10,
    ok2xx: rps * 10,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    mismatches: 0,
    statuses: { '200': rps * 10 },
    failures: [],
    latencyMs: { p50: 12.5, p90: 20, p99: 31.25, max: 80, mean: 13 },
    generatorCpu: 0.6,
    proofGenerationMs: 900,
    proofs: { poolSize: 30_000, used: rps * 10, madeInWindow: 0 },
    rps,
    serverCpu: 0.98,
    serverCpuMsPerRequest: 1000 / rps,
    serverThreadsMsPerRequest: { main: { user: 0.6, system: 0.1 }, others: { user: 0.05, system: 0.01 } },
    foreignCpu: 0.02,
    loadCoreForeignCpu: 0.01,
    ...overrides,
  };
}

export function signerRun(rps: number, overrides: Partial<DrivenRun> = {}): SignerRun {
  return {
    ...drivenRun(rps, overrides),
    window: {
      requests: rps * 10,
      signed: rps * 10,
      cacheHits: { optok: rps * 10 - 1, poe: rps * 10, release: rps * 10 },
      tokenCache: { hits: rps * 10 - 1, notFromCache: 1 },
    },
    upstream: { window: {}, total: {} },
  };
}

const lane = (lanes: number, opsPerSecond: number, cpuUsPerOp: number, foreignCpu: number): CryptoLane => ({
  lanes,
  ops: opsPerSecond * 5,
  seconds: 5,
  opsPerSecond,
  cpuUsPerOp,
  foreignCpu,
});

export function round(figures: RoundFigures): Round {
  const foreign = figures.foreign ?? 0.02;
  const signerOverrides =
    figures.signerCpuMs === undefined ? {} : { serverCpuMsPerRequest: figures.signerCpuMs };
  return {
    signer: {
      ...signerRun(figures.signerRps, { foreignCpu: foreign, ...signerOverrides }),
      warmup: drivenRun(figures.signerRps / 2),
      audit: cleanAudit(figures.signerRps * 10),
    },
    floorA: { ...drivenRun(figures.noopRps), warmup: drivenRun(figures.noopRps / 2) },
    floorB: [
      lane(32, figures.cryptoOps, figures.cryptoCpuUs ?? 250, 0.01),
      lane(1, figures.cryptoOps * 0.8, 260, 0.01),
    ],
  };
}
