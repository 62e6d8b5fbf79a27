// The bench's verdicts, from the measured rounds: headline medians over the undisturbed rounds,
// the ratio signer / combined floor, and each variant run against the base run of its round.
// Pure: the figures in, the summary (tmp/bench/latest.json) out.
import type {
  AuditCheck,
  Check,
  DrivenRun,
  MeasuredVariant,
  Round,
  Settings,
  SignerRun,
  Summary,
  VariantSummary,
} from './types';
import type { Variant } from './variants';

/** The base verdict's target: signer bundles/s over the combined floor. */
export const TARGET_RATIO = 0.6;
/** Share of a core taken by other processes above which a run is flagged as disturbed. */
export const NOISY_SHARE = 0.1;

/** One variant run, or the error that ended it. */
export type VariantRun = {
  variant: Pick<Variant, 'name' | 'configures' | 'switched' | 'target'>;
  round: number;
} & (
  | { run: { main: SignerRun; warmup: DrivenRun; audit: AuditCheck; checks: Check[] }; error?: undefined }
  | { error: string }
);

export interface SummaryInput {
  settings: Settings & { variants: readonly { name: string }[] };
  /** Failures of the base runs: they make the base verdict INVALID. */
  failures: readonly string[];
  /** Failures of variant runs: they fail the bench, not the base verdict. */
  variantFailures: readonly string[];
  variantRuns: readonly VariantRun[];
}

/** The element whose `key` is the median (the lower one of an even count). */
export function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  const sorted = [...items].sort((x, y) => key(x) - key(y));
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (median === undefined) throw new Error('expected at least one item, got none');
  return median;
}

/** Requests per second of two stages in series: 1 / (1/a + 1/b). */
export const combinedRate = (a: number, b: number): number => 1 / (1 / a + 1 / b);

const crypto = (round: Pick<Round, 'floorB'>) => {
  const lane = round.floorB[0];
  if (lane === undefined) throw new Error('expected floor (b) figures, got none');
  return lane;
};

/** The ratio signer / combined floor within one round. */
export const roundRatio = (round: Round): number =>
  round.signer.rps / combinedRate(round.floorA.rps, crypto(round).opsPerSecond);

export const isClean = (run: Pick<DrivenRun, 'non2xx' | 'errors' | 'timeouts'>): boolean =>
  run.non2xx + run.errors + run.timeouts === 0;

/** Other processes took a noticeable share of a core: such a round describes a shared machine. */
export const isDisturbed = (round: Round): boolean =>
  Math.max(
    round.signer.foreignCpu,
    round.floorA.foreignCpu,
    crypto(round).foreignCpu,
    round.signer.loadCoreForeignCpu ?? 0,
    round.floorA.loadCoreForeignCpu ?? 0,
  ) > NOISY_SHARE;

/** A variant run's share of a core taken by other processes (an unpinned upstream excluded). */
export const variantForeignCpu = (
  run: Pick<DrivenRun, 'foreignCpu' | 'loadCoreForeignCpu' | 'unpinnedUpstreamCpu'>,
): number =>
  Math.max(0, Math.max(run.foreignCpu, run.loadCoreForeignCpu ?? 0) - (run.unpinnedUpstreamCpu ?? 0));

/** A variant's verdict: a failed run fails; otherwise its ratio against its target, if it has one. */
export function variantVerdict(
  failed: boolean,
  ratio: number,
  target: number | undefined,
): MeasuredVariant['verdict'] {
  if (failed) return 'FAILED';
  if (target === undefined) return 'no target';
  return ratio >= target ? 'PASS' : 'BELOW';
}

/** The base verdict: any failed request or audit problem makes the ratio meaningless. */
export function baseVerdict(failures: readonly string[], ratio: number): Summary['verdict'] {
  if (failures.length > 0) return 'INVALID';
  return ratio >= TARGET_RATIO ? 'PASS' : 'BELOW';
}

/** Each variant run against the base signer run of the same round; its target, if it has one. */
export function summariseVariants(
  variantRuns: readonly VariantRun[],
  rounds: readonly Round[],
): VariantSummary[] {
  return variantRuns.map((entry) => {
    const base = rounds[entry.round - 1]?.signer;
    if (base === undefined)
      throw new Error(`expected round ${entry.round} to exist, got ${rounds.length} rounds`);
    const { variant } = entry;
    const summary = {
      name: variant.name,
      configures: variant.configures,
      ...(variant.switched ? { switched: variant.switched } : {}),
      round: entry.round,
      target: variant.target,
      base: {
        rps: base.rps,
        latencyMs: base.latencyMs,
        serverCpuMsPerRequest: base.serverCpuMsPerRequest,
        tokenCache: base.window.tokenCache,
      },
    };
    if (entry.error !== undefined) return { ...summary, verdict: 'FAILED', error: entry.error };
    const { run } = entry;
    const ratio = run.main.rps / base.rps;
    // On a saturated pinned core, throughput follows CPU per request; this ratio is less moved by a
    // starved load generator than the throughput ratio (it is what the variant costs the Signer).
    const cpuRatio = base.serverCpuMsPerRequest / run.main.serverCpuMsPerRequest;
    const failed = run.checks.some((c) => !c.ok) || run.audit.problems.length > 0 || !isClean(run.main);
    return {
      ...summary,
      ratio,
      cpuRatio,
      verdict: variantVerdict(failed, ratio, variant.target),
      disturbed: variantForeignCpu(run.main) > NOISY_SHARE,
      foreignCpu: variantForeignCpu(run.main),
      checks: run.checks,
      signer: { ...run.main, warmup: run.warmup, audit: run.audit },
    };
  });
}

/**
 * Headline figures: each measurement's median over the undisturbed rounds (over all rounds when
 * every one was disturbed); the ratio is computed from those medians.
 */
export function summarise(rounds: readonly Round[], input: SummaryInput): Summary {
  const clean = rounds.filter((round) => !isDisturbed(round));
  const used = clean.length > 0 ? clean : rounds;
  const signer = medianBy(
    used.map((round) => round.signer),
    (run) => run.rps,
  );
  const floorA = medianBy(
    used.map((round) => round.floorA),
    (run) => run.rps,
  );
  const floorB = medianBy(used, (round) => crypto(round).opsPerSecond).floorB;
  const combined = combinedRate(floorA.rps, crypto({ floorB }).opsPerSecond);
  const ratio = signer.rps / combined;
  const cryptoCpu = rounds.map((round) => crypto(round).cpuUsPerOp);
  return {
    settings: { ...input.settings, variants: input.settings.variants.map((variant) => variant.name) },
    signer,
    floorA,
    floorB,
    combinedFloorRps: combined,
    ratio,
    target: TARGET_RATIO,
    verdict: baseVerdict(input.failures, ratio),
    disturbed: clean.length === 0,
    roundRatios: rounds.map(roundRatio),
    roundsDisturbed: rounds.map(isDisturbed),
    roundsUsed: used.length,
    // The same crypto work costing more CPU in one round than another: the host (other tenants,
    // a busy sibling hyperthread) slowed this machine down in a way /proc/stat does not show.
    hostSlowdown: Math.max(...cryptoCpu) / Math.min(...cryptoCpu),
    rounds: rounds.length > 1 ? [...rounds] : undefined,
    variants: summariseVariants(input.variantRuns, rounds),
    failures: [...input.failures, ...input.variantFailures],
  };
}
