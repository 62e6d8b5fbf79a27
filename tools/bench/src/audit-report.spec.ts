import {
  auditProblems,
  formatAuditReport,
  recordsPerPostgresCore,
  summariseAuditCase,
  type AuditCaseRun,
} from './audit-report';
import { emptyHistogram, record } from './latency-histogram';

function histogram(samples: number[]): number[] {
  const counts = emptyHistogram();
  for (const ms of samples) record(counts, ms);
  return counts;
}

/** 30 writers in 3 processes: 40 000 records in a 10 s window, 50 000 rows in 2 000 commits. */
const run: AuditCaseRun = {
  writers: 30,
  schemaVersion: 2,
  processes: 3,
  windowSeconds: 10,
  results: [
    { appended: 20_000, failed: 0, histogram: histogram(Array(99).fill(10).concat([200])), cpuMs: 1000 },
    { appended: 20_000, failed: 0, histogram: histogram(Array(99).fill(10).concat([200])), cpuMs: 1000 },
  ],
  rows: 50_000,
  commits: 2000,
  machineBusy: 0.5,
  postgresCpuMs: 4000,
  verified: { ok: true, count: 50_000 },
};

describe('summariseAuditCase', () => {
  describe('when every writer process answered', () => {
    const summary = summariseAuditCase(run);

    it('gives records/s over the window and rows per commit over the case', () => {
      expect(summary.recordsPerSecond).toBe(4000);
      expect(summary.rowsPerCommit).toBe(25);
      expect(summary.commitsPerSecond).toBe(160);
    });

    it('merges the latencies of every process', () => {
      expect(summary.p50Ms).toBeGreaterThanOrEqual(10);
      expect(summary.p50Ms).toBeLessThan(10.3);
      expect(summary.p99Ms).toBeGreaterThanOrEqual(10);
      expect(summary.p99Ms).toBeLessThan(200);
    });

    it('gives CPU per 1 000 records and the records one PostgreSQL core sustains', () => {
      expect(summary.writerCpuMsPer1k).toBe(50);
      expect(summary.postgresCpuMsPer1k).toBe(100);
      expect(recordsPerPostgresCore(summary)).toBe(10_000);
    });
  });
});

describe('auditProblems', () => {
  describe('when appends failed or the trail does not verify', () => {
    it('names both', () => {
      const broken = summariseAuditCase({
        ...run,
        results: [{ appended: 1, failed: 2, histogram: emptyHistogram(), cpuMs: 1, firstError: 'refused' }],
        verified: { ok: false, reason: 'checkpoint 3: expected seq 3, got 4' },
      });
      expect(auditProblems([broken])).toEqual([
        '30 writers: 2 appends failed (refused)',
        '30 writers: the trail does not verify: checkpoint 3: expected seq 3, got 4',
      ]);
    });
  });

  describe('when the case is clean', () => {
    it('finds nothing', () => {
      expect(auditProblems([summariseAuditCase(run)])).toEqual([]);
    });
  });
});

describe('formatAuditReport', () => {
  it('prints one row per writer count with the replicas the trail carries', () => {
    const text = formatAuditReport({
      cases: [summariseAuditCase(run)],
      inFlight: 32,
      replicaRps: 2000,
      design: 'schema v2',
    });
    const row = text.split('\n').find((l) => l.trim().startsWith('30 '));
    expect(row?.trim()).toMatch(
      /^30\s+3\s+4,000\s+160\s+25\.0\s+10\.\d+ ms \/ \d+\.\d+ ms\s+50 %\s+50 ms, 100 ms\s+10,000\s+2\.0$/,
    );
    expect(text).toContain('30 writers: 0 failed appends; trail verifies (50,000 records)');
  });
});
