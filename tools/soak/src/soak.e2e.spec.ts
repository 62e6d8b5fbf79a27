import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findWorkspaceRoot } from '@signer/testing';
import type { SoakReport } from './report';

const ROOT = findWorkspaceRoot(__dirname);
/** The short soak: one cycle of every fault with short phases (≤ 3 minutes on the 2-core machine). */
const SHORT = {
  SOAK_SECONDS: '0',
  SOAK_BASELINE_SECONDS: '5',
  SOAK_FAULT_SECONDS: '6',
  SOAK_PG_OUTAGE_SECONDS: '10',
};
const KILL_AFTER_MS = 225_000;
jest.setTimeout(240_000);

/** The faults after the Redis one, the same in both topologies. */
const OTHER_FAULTS = [
  'postgres-stopped',
  'licensing-timeouts',
  'licensing-500s',
  'registry-down',
  'kms-throttling',
  'fulcio-5xx',
  'replica-sigkill',
  'slow-client',
];

/**
 * Shared state on one Redis server (its restart is the Redis fault), and on a three-master Redis
 * Cluster with replicas (`SOAK_REDIS=cluster`; the master owning a slot in use is killed and its
 * replica promoted).
 */
const TOPOLOGIES = [
  { redis: 'standalone', faults: ['redis-restart', ...OTHER_FAULTS] },
  { redis: 'cluster', faults: ['redis-master-failover', ...OTHER_FAULTS] },
];

/** Runs `npm run soak` (tools/soak/run.mjs) exactly as an operator would, with short phases. */
function runShortSoak(reportFile: string, redis: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'tools/soak/run.mjs')], {
      cwd: ROOT,
      env: { ...process.env, ...SHORT, SOAK_REDIS: redis, SOAK_REPORT: reportFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    // run.mjs forwards SIGTERM to the harness, which stops every process it started.
    const timer = setTimeout(() => child.kill('SIGTERM'), KILL_AFTER_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.join('') });
    });
  });
}

describe.each(TOPOLOGIES)(
  'npm run soak (short: every fault once, three replicas, $redis Redis)',
  ({ redis, faults }) => {
    const reportFile = join(ROOT, 'tmp', `soak-report-${randomUUID()}.json`);
    let run: { code: number | null; output: string };
    let report: SoakReport;

    beforeAll(async () => {
      run = await runShortSoak(reportFile, redis);
      if (!existsSync(reportFile)) throw new Error(`the soak wrote no report:\n${run.output.slice(-4000)}`);
      report = JSON.parse(readFileSync(reportFile, 'utf8')) as SoakReport;
    });
    afterAll(() => rmSync(reportFile, { force: true }));

    it('injects every fault of issue #8 in turn', () => {
      expect(report.phases.map((phase) => phase.fault)).toEqual(faults);
      expect(report.phases.every((phase) => phase.requests > 0)).toBe(true);
    });

    it('passes every check of the table and exits 0', () => {
      const failed = report.checks.filter((check) => !check.pass);
      expect(failed).toEqual([]);
      expect(report.checks.length).toBeGreaterThanOrEqual(19);
      expect(run.code).toBe(0);
    });

    it('checks every auditId answered against the trail, each summary record, and the readiness floods', () => {
      const rows = report.checks.map((check) => check.check);
      expect(rows).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^every auditId answered is in the trail/),
          expect.stringMatching(/^every summary record's refusals equal the answers/),
          expect.stringMatching(/^readiness floods/),
        ]),
      );
    });

    it('prints the check and phase tables', () => {
      expect(run.output).toContain('| check ');
      expect(run.output).toContain('| fault ');
      expect(run.output).toMatch(/soak PASSED: \d+ of \d+ checks/);
    });

    it('signed with every key kind on every replica', () => {
      expect(report.signed).toBeGreaterThan(100);
      expect(report.figures.map((figure) => figure.replica.replace(/#\d+$/, ''))).toEqual(['a', 'b', 'c']);
    });
  },
);
