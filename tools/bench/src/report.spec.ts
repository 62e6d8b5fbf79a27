import { formatReport } from './report';
import { round, signerRun, cleanAudit, redisVariant } from './round-fixtures';
import { summarise, type VariantRun } from './summary';
import type { Results, Round } from './types';

const settings = {
  seconds: 10,
  warmupSeconds: 3,
  cryptoSeconds: 5,
  connections: 32,
  rounds: 2,
  pinned: true,
  cpuProfile: false,
  keep: false,
  variants: [],
};

function results(rounds: Round[], variantRuns: VariantRun[] = [], failures: string[] = []): Results {
  return {
    ...summarise(rounds, { settings, failures, variantFailures: [], variantRuns }),
    date: '2026-12-01T10:00:00.000Z',
    machine: { cpus: 2, model: 'Test CPU', node: 'v20.19.0', kernel: '6.1.0', auditFs: 'ext2/3/4' },
    source: { commit: '0123456789abcdef0123', dirty: true },
  };
}

/** The report's line that starts with `start`, without its indentation. */
const line = (report: string, start: string) =>
  report
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith(start));

describe('formatReport', () => {
  describe('when the base runs passed', () => {
    const report = formatReport(
      results([
        round({ signerRps: 700, noopRps: 3000, cryptoOps: 1500 }),
        round({ signerRps: 700, noopRps: 3000, cryptoOps: 1500, foreign: 0.3 }),
      ]),
    );

    it('prints the headline figures, the ratio and its verdict', () => {
      expect(report).toContain('Stella Ops Signer bench — 2026-12-01T10:00:00.000Z');
      expect(report).toContain('source: 0123456789ab + uncommitted changes');
      expect(line(report, 'signer: signed bundles/s')).toMatch(/700\s+7,000 × 200 in 10 s$/);
      expect(line(report, 'combined floor 1/(1/a + 1/b)')).toMatch(/1,000\s*$/);
      expect(line(report, 'ratio signer / combined floor')).toMatch(/0\.700\s+target ≥ 0\.6: PASS$/);
    });

    it('says the trail verified and which rounds were disturbed', () => {
      expect(line(report, 'audit trail')).toContain('hash chain verified; 7,000 200s received');
      expect(line(report, 'figures are')).toContain(
        "each measurement's median over 1 undisturbed round(s) of 2; ratio within each round: 0.700, 0.700* (* disturbed)",
      );
    });
  });

  describe('when a base run failed', () => {
    it('prints the verdict INVALID', () => {
      const report = formatReport(
        results([round({ signerRps: 900, noopRps: 3000, cryptoOps: 1500 })], [], ['x']),
      );
      expect(line(report, 'ratio signer / combined floor')).toMatch(/target ≥ 0\.6: INVALID$/);
    });
  });

  describe('when variants ran', () => {
    const redis = redisVariant;
    const keyless = { name: 'keyless', configures: 'signing.keyless', target: 0.9 } as const;
    const keylessRun = signerRun(400, { serverCpuMsPerRequest: 2.5 });
    keylessRun.upstream = { window: { fulcioCalls: 0 }, total: { fulcioCalls: 2 } };
    const report = formatReport(
      results(
        [round({ signerRps: 500, noopRps: 3000, cryptoOps: 1500, signerCpuMs: 2 })],
        [
          {
            variant: keyless,
            round: 1,
            run: {
              main: keylessRun,
              warmup: signerRun(200),
              audit: cleanAudit(),
              checks: [{ what: 'exactly one Fulcio call in the run', ok: false }],
            },
          },
          { variant: redis, round: 1, error: 'redis-server did not start' },
        ],
      ),
    );

    it('prints a row per run with its ratio to the base and its target verdict', () => {
      expect(line(report, 'keyless  ')).toMatch(
        /^keyless\s+1\s+400\s+12\.5 ms \/ 31\.3 ms\s+2\.500 ms\s+0\.800 \(400 \/ 500\)\s+0\.800\s+≥ 0\.9: FAILED$/,
      );
      expect(line(report, 'redis  ')).toMatch(/^redis\s+1\s+—\s+—\s+—\s+—\s+—\s+FAILED$/);
    });

    it('prints what the counters show, the failed checks and the error', () => {
      expect(line(report, 'keyless:')).toBe(
        'keyless: Fulcio certificate requests: 2 in the whole run, 0 in the window (the certificate is reused); ' +
          'NOT exactly one Fulcio call in the run',
      );
      expect(line(report, 'redis:')).toBe('redis: FAILED — redis-server did not start');
    });
  });
});
