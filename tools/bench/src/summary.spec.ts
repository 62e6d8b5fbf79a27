import { cleanAudit, redisVariant, round, signerRun } from './round-fixtures';
import type { MeasuredVariant, VariantSummary } from './types';
import {
  TARGET_RATIO,
  baseVerdict,
  combinedRate,
  isDisturbed,
  medianBy,
  roundRatio,
  summarise,
  summariseVariants,
  variantVerdict,
  type SummaryInput,
  type VariantRun,
} from './summary';

const settings = {
  seconds: 10,
  warmupSeconds: 3,
  cryptoSeconds: 5,
  connections: 32,
  rounds: 3,
  pinned: true,
  cpuProfile: false,
  keep: false,
  variants: [{ name: 'redis' }],
};
const input = (overrides: Partial<SummaryInput> = {}): SummaryInput => ({
  settings,
  failures: [],
  variantFailures: [],
  variantRuns: [],
  ...overrides,
});

describe('medianBy', () => {
  describe('when the count is odd', () => {
    it('returns the middle element by key, whatever the order', () => {
      expect(medianBy([{ v: 9 }, { v: 1 }, { v: 5 }], (x) => x.v)).toEqual({ v: 5 });
    });
  });

  describe('when the count is even', () => {
    it('returns the lower of the two middle elements', () => {
      expect(medianBy([4, 1, 3, 2], (x) => x)).toBe(2);
    });
  });

  describe('when there is nothing to choose from', () => {
    it('throws', () => {
      expect(() => medianBy([], (x: number) => x)).toThrow('expected at least one item');
    });
  });
});

describe('roundRatio', () => {
  describe('when the floors are 3000 req/s and 1500 ops/s', () => {
    it('divides the signer rate by the combined floor 1/(1/a + 1/b) = 1000', () => {
      expect(combinedRate(3000, 1500)).toBeCloseTo(1000, 9);
      expect(roundRatio(round({ signerRps: 700, noopRps: 3000, cryptoOps: 1500 }))).toBeCloseTo(0.7, 9);
    });
  });
});

describe('isDisturbed', () => {
  describe('when other processes took at most 10 % of every core', () => {
    it('is false', () => {
      expect(isDisturbed(round({ signerRps: 700, noopRps: 3000, cryptoOps: 1500, foreign: 0.1 }))).toBe(
        false,
      );
    });
  });

  describe('when they took more of the service core in the signer run', () => {
    it('is true', () => {
      expect(isDisturbed(round({ signerRps: 700, noopRps: 3000, cryptoOps: 1500, foreign: 0.11 }))).toBe(
        true,
      );
    });
  });

  describe('when they took more of the load core in the no-op run', () => {
    it('is true', () => {
      const noisy = round({ signerRps: 700, noopRps: 3000, cryptoOps: 1500 });
      noisy.floorA.loadCoreForeignCpu = 0.3;
      expect(isDisturbed(noisy)).toBe(true);
    });
  });
});

describe('summarise', () => {
  describe('when every round is undisturbed', () => {
    const rounds = [
      round({ signerRps: 600, noopRps: 3000, cryptoOps: 1500 }),
      round({ signerRps: 800, noopRps: 2800, cryptoOps: 1400 }),
      round({ signerRps: 700, noopRps: 3200, cryptoOps: 1600 }),
    ];
    const summary = summarise(rounds, input());

    it('takes each measurement at its own median and the ratio from those medians', () => {
      expect(summary.signer.rps).toBe(700);
      expect(summary.floorA.rps).toBe(3000);
      expect(summary.floorB[0]?.opsPerSecond).toBe(1500);
      expect(summary.combinedFloorRps).toBeCloseTo(1000, 9);
      expect(summary.ratio).toBeCloseTo(0.7, 9);
      expect(summary).toMatchObject({
        verdict: 'PASS',
        target: TARGET_RATIO,
        disturbed: false,
        roundsUsed: 3,
      });
    });

    it('reports the ratio within each round and keeps the rounds', () => {
      expect(summary.roundRatios.map((x) => Number(x.toFixed(4)))).toEqual([0.6, 0.8571, 0.6563]);
      expect(summary.roundsDisturbed).toEqual([false, false, false]);
      expect(summary.rounds).toHaveLength(3);
      expect(summary.settings.variants).toEqual(['redis']);
    });
  });

  describe('when one round is disturbed', () => {
    it('takes the medians over the other rounds only', () => {
      const summary = summarise(
        [
          round({ signerRps: 900, noopRps: 3000, cryptoOps: 1500, foreign: 0.4 }),
          round({ signerRps: 500, noopRps: 3000, cryptoOps: 1500 }),
          round({ signerRps: 550, noopRps: 3000, cryptoOps: 1500 }),
        ],
        input(),
      );
      expect(summary.signer.rps).toBe(500);
      expect(summary.roundsUsed).toBe(2);
      expect(summary.roundsDisturbed).toEqual([true, false, false]);
      expect(summary.disturbed).toBe(false);
      expect(summary.verdict).toBe('BELOW');
    });
  });

  describe('when every round is disturbed', () => {
    it('uses all rounds and marks the run disturbed', () => {
      const summary = summarise(
        [
          round({ signerRps: 600, noopRps: 3000, cryptoOps: 1500, foreign: 0.5 }),
          round({ signerRps: 800, noopRps: 3000, cryptoOps: 1500, foreign: 0.5 }),
        ],
        input(),
      );
      expect(summary).toMatchObject({ disturbed: true, roundsUsed: 2 });
      expect(summary.signer.rps).toBe(600);
    });
  });

  describe('when floor (b) cost more CPU per op in one round', () => {
    it('reports the spread as the host slowdown', () => {
      const summary = summarise(
        [
          round({ signerRps: 700, noopRps: 3000, cryptoOps: 1500, cryptoCpuUs: 200 }),
          round({ signerRps: 700, noopRps: 3000, cryptoOps: 1500, cryptoCpuUs: 260 }),
        ],
        input(),
      );
      expect(summary.hostSlowdown).toBeCloseTo(1.3, 9);
    });
  });

  describe('when a base run failed', () => {
    it('makes the verdict INVALID and lists base and variant failures', () => {
      const summary = summarise(
        [round({ signerRps: 900, noopRps: 3000, cryptoOps: 1500 })],
        input({ failures: ['signer: 3 non-2xx'], variantFailures: ['redis: boom'] }),
      );
      expect(summary.verdict).toBe('INVALID');
      expect(summary.failures).toEqual(['signer: 3 non-2xx', 'redis: boom']);
      expect(summary.rounds).toBeUndefined();
    });
  });
});

describe('baseVerdict', () => {
  describe('when nothing failed', () => {
    it('passes at the target and is below under it', () => {
      expect(baseVerdict([], TARGET_RATIO)).toBe('PASS');
      expect(baseVerdict([], TARGET_RATIO - 0.001)).toBe('BELOW');
    });
  });
});

describe('variantVerdict', () => {
  describe('when the run failed', () => {
    it('is FAILED whatever the ratio', () => {
      expect(variantVerdict(true, 2, 0.8)).toBe('FAILED');
    });
  });

  describe('when the variant has no target', () => {
    it('says so', () => {
      expect(variantVerdict(false, 0.5, undefined)).toBe('no target');
    });
  });

  describe('when it has one', () => {
    it('passes at the target and is below under it', () => {
      expect(variantVerdict(false, 0.8, 0.8)).toBe('PASS');
      expect(variantVerdict(false, 0.79, 0.8)).toBe('BELOW');
    });
  });
});

/** The summary of a run that measured (a test fails on one that ended in an error). */
function measuredOf(summary: VariantSummary | undefined): MeasuredVariant {
  if (summary === undefined || summary.error !== undefined)
    throw new Error(`expected a measured variant, got ${summary?.error}`);
  return summary;
}

describe('summariseVariants', () => {
  const rounds = [
    round({ signerRps: 1000, noopRps: 3000, cryptoOps: 1500, signerCpuMs: 1 }),
    round({ signerRps: 500, noopRps: 3000, cryptoOps: 1500, signerCpuMs: 2 }),
  ];
  const redis = redisVariant;
  const measured = (
    rps: number,
    cpuMs: number,
    overrides: Partial<VariantRun & { round: number }> = {},
  ): VariantRun => ({
    variant: redis,
    round: 2,
    run: {
      main: signerRun(rps, { serverCpuMsPerRequest: cpuMs }),
      warmup: signerRun(rps / 2),
      audit: cleanAudit(),
      checks: [{ what: 'a counter', ok: true }],
    },
    ...overrides,
  });

  describe('when a variant run measured', () => {
    it('compares it with the base run of its own round', () => {
      const [summary] = summariseVariants([measured(450, 2.5)], rounds);
      expect(summary).toMatchObject({
        name: 'redis',
        switched: 'quota gate',
        round: 2,
        verdict: 'PASS',
        disturbed: false,
        base: { rps: 500, serverCpuMsPerRequest: 2 },
      });
      expect(measuredOf(summary).ratio).toBeCloseTo(0.9, 9);
      expect(measuredOf(summary).cpuRatio).toBeCloseTo(0.8, 9);
    });
  });

  describe('when its ratio is under the target', () => {
    it('is BELOW', () => {
      expect(summariseVariants([measured(350, 3)], rounds)[0]?.verdict).toBe('BELOW');
    });
  });

  describe('when a check failed, requests failed or the trail has a problem', () => {
    it('is FAILED', () => {
      const failedCheck = measured(480, 2);
      if (failedCheck.error === undefined) failedCheck.run.checks = [{ what: 'no Fulcio call', ok: false }];
      const failedRequests = measured(480, 2);
      if (failedRequests.error === undefined) failedRequests.run.main.non2xx = 1;
      const brokenTrail = measured(480, 2);
      if (brokenTrail.error === undefined) brokenTrail.run.audit.problems = ['hash chain broken'];
      expect(
        summariseVariants([failedCheck, failedRequests, brokenTrail], rounds).map((v) => v.verdict),
      ).toEqual(['FAILED', 'FAILED', 'FAILED']);
    });
  });

  describe('when other processes took the load core during the run', () => {
    it('is marked disturbed, an unpinned upstream not counted', () => {
      const noisy = measured(480, 2);
      const unpinned = measured(480, 2);
      if (noisy.error === undefined) noisy.run.main.loadCoreForeignCpu = 0.3;
      if (unpinned.error === undefined)
        Object.assign(unpinned.run.main, { foreignCpu: 0.3, unpinnedUpstreamCpu: 0.25 });
      const [first, second] = summariseVariants([noisy, unpinned], rounds);
      expect(measuredOf(first).disturbed).toBe(true);
      expect(measuredOf(second).foreignCpu).toBeCloseTo(0.05, 9);
      expect(measuredOf(second).disturbed).toBe(false);
    });
  });

  describe('when the run ended in an error', () => {
    it('is FAILED with the error and the base figures', () => {
      const [summary] = summariseVariants(
        [{ variant: redis, round: 1, error: 'fakes did not start' }],
        rounds,
      );
      expect(summary).toMatchObject({ verdict: 'FAILED', error: 'fakes did not start', base: { rps: 1000 } });
    });
  });

  describe('when its round does not exist', () => {
    it('throws', () => {
      expect(() => summariseVariants([measured(480, 2, { round: 3 })], rounds)).toThrow('expected round 3');
    });
  });
});
