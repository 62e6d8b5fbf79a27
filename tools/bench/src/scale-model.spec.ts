import { signerRun, cleanAudit } from './round-fixtures';
import { scaleLines, scaleModel } from './scale-model';
import type { MeasuredVariant, SignerRun } from './types';

/** A measured redis-postgres run: 1 000 signed/s, 10 000 signed in the window. */
function measured(upstream: SignerRun['upstream'], redisCpuMsPerRequest?: number): MeasuredVariant {
  const run = signerRun(
    1000,
    redisCpuMsPerRequest === undefined
      ? {}
      : { upstreamCpuMsPerRequest: { 'redis-server': redisCpuMsPerRequest } },
  );
  run.upstream = upstream;
  return {
    name: 'redis-postgres',
    configures: 'redis + postgres',
    round: 1,
    base: {
      rps: 1000,
      latencyMs: run.latencyMs,
      serverCpuMsPerRequest: 1,
      tokenCache: run.window.tokenCache,
    },
    ratio: 1,
    cpuRatio: 1,
    verdict: 'no target',
    disturbed: false,
    foreignCpu: 0,
    checks: [],
    signer: { ...run, warmup: run, audit: cleanAudit() },
  };
}

describe('scaleModel', () => {
  describe('when a run measured Redis and a PostgreSQL trail', () => {
    // 3 commands per request, 0.03 ms of redis-server CPU per request → 10 µs per command;
    // 0.1 ms of backend CPU per record; 20 000 rows in 1 000 commits over the run.
    const model = scaleModel(
      measured(
        {
          window: { redisCommands: 30_000, redisReads: 25_000, postgresCpuMs: 1000, auditCommits: 500 },
          total: { auditRecords: 20_000, auditCommits: 1000 },
        },
        0.03,
      ),
    );

    it('derives the cost per command and per record from the window', () => {
      expect(model?.redis?.commandsPerRequest).toBeCloseTo(3);
      expect(model?.redis?.readsPerRequest).toBeCloseTo(2.5);
      expect(model?.redis?.cpuUsPerCommand).toBeCloseTo(10);
      expect(model?.postgres?.cpuMsPerRecord).toBeCloseTo(0.1);
      expect(model?.postgres?.rowsPerCommit).toBeCloseTo(20);
    });

    it('gives the replicas one core of each service carries', () => {
      // 100 000 commands/s ÷ (3 × 1 000/s); 10 000 records/s ÷ 1 000/s.
      expect(model?.redis?.opsPerCore).toBeCloseTo(100_000);
      expect(model?.redis?.replicas).toBeCloseTo(33.33, 1);
      expect(model?.postgres?.recordsPerCore).toBeCloseTo(10_000);
      expect(model?.postgres?.replicas).toBeCloseTo(10);
    });

    it('prints the model with its inputs', () => {
      const text = scaleLines([
        measured(
          {
            window: { redisCommands: 30_000, redisReads: 25_000, postgresCpuMs: 1000 },
            total: { auditRecords: 20_000, auditCommits: 1000 },
          },
          0.03,
        ),
      ]).join('\n');
      expect(text).toContain('redis-postgres (round 1): one replica signs 1,000/s');
      expect(text).toContain(
        'Redis: 3.00 commands and 2.50 socket reads (at most the round trips: concurrent requests share reads) per signed request; redis-server 10.0 µs CPU per command → 100,000 commands/s per core → saturates at 33.3 replicas (100,000 ÷ (3.00 × 1,000))',
      );
      expect(text).toContain(
        'PostgreSQL audit: 20.0 rows per commit (whole run); backends 0.100 ms CPU per record → 10,000 records/s per core → saturates at 10.0 replicas per PostgreSQL core (10,000 ÷ 1,000)',
      );
    });
  });

  describe('when a run measured neither', () => {
    it('has no model and prints nothing', () => {
      const plain = measured({ window: { fulcioCalls: 0 }, total: {} });
      expect(scaleModel(plain)).toBeUndefined();
      expect(scaleLines([plain])).toEqual([]);
    });
  });
});
