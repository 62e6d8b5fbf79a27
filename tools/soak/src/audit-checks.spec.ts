import type { ChainedAuditRecord } from '@signer/core';
import { auditIdRow, summaryRow } from './audit-checks';
import type { CheckInput } from './check-input';
import type { Exchange } from './ledger';
import type { FaultWindow } from './phases';
import { faultWindow } from './fault-window-fixture';

let ids = 0;
const exchange = (overrides: Partial<Exchange>): Exchange => {
  ids += 1;
  return {
    id: `soak-${ids}`,
    op: ids,
    step: 0,
    kind: 'bad-token',
    replica: 'a',
    tenant: 'tenant-1',
    start: 1_000,
    end: 1_050,
    status: 401,
    code: 'invalid_token',
    auditId: `audit-${ids}`,
    ...overrides,
  };
};

/** The record of `e`'s own decision. */
const recordOf = (e: Exchange, overrides: Partial<ChainedAuditRecord> = {}): ChainedAuditRecord => ({
  auditId: e.auditId as string,
  time: new Date(e.start).toISOString(),
  correlationId: e.id,
  route: 'POST /api/v1/signer/sign/dsse',
  outcome: e.status === 200 ? 'signed' : (e.code as ChainedAuditRecord['outcome']),
  gates: {},
  latencyMs: 1,
  prevHash: '0',
  hash: '1',
  ...overrides,
});

/** A summary record counting `answers` (all carrying its id), spanning their times. */
const summaryOf = (auditId: string, answers: Exchange[], refusals = answers.length): ChainedAuditRecord => {
  const outcomes: Record<string, number> = {};
  for (const e of answers) outcomes[e.code as string] = (outcomes[e.code as string] ?? 0) + 1;
  return {
    auditId,
    time: new Date(Math.min(...answers.map((e) => e.start))).toISOString(),
    correlationId: '-',
    route: 'anonymous refusals',
    outcome: 'summary',
    gates: {},
    latencyMs: 0,
    summary: { refusals, outcomes, until: new Date(Math.max(...answers.map((e) => e.end))).toISOString() },
    prevHash: '0',
    hash: '1',
  };
};

const postgresDown = faultWindow('postgres-stopped', 'postgres');

const input = (
  exchanges: Exchange[],
  audit: ChainedAuditRecord[],
  windows: FaultWindow[] = [],
): CheckInput => ({
  exchanges,
  readiness: [],
  windows,
  audit,
  chain: { ok: true, count: audit.length, lastHash: '1' },
  verification: new Map(),
  segments: [],
  leasesAfterRun: 0,
  quotaLicenseId: 'lic',
  figures: [],
  recoveryBoundMs: 5_000,
  rssGrowthMb: 150,
  fdGrowth: 40,
  tenants: [],
  replicas: ['a', 'b', 'c'],
});

describe('auditIdRow', () => {
  describe('when every answer names a record of its own decision', () => {
    it('passes, counting idempotent replays of one operation as the same decision', () => {
      const refused = exchange({});
      const signed = exchange({ kind: 'retry-same', status: 200, code: undefined });
      const replay = exchange({ kind: 'retry-same', op: signed.op, step: 1, status: 200, code: undefined });
      replay.auditId = signed.auditId;
      const checked = auditIdRow(input([refused, signed, replay], [recordOf(refused), recordOf(signed)]));
      expect(checked).toMatchObject({ pass: true, expected: '3 of 3 answers' });
      expect(checked.observed).toMatch(/^3 own, 0 via 0 summaries/);
    });
  });

  describe('when a signed record was committed but its acknowledgement was lost (answered 503)', () => {
    it('passes: the refusal names its own record, which supersedes the signed one', () => {
      const refused = exchange({ kind: 'retry-same', status: 503, code: 'upstream_unavailable' });
      const lost = recordOf(refused, { auditId: 'audit-lost', outcome: 'signed', bundleSha256: 'ab' });
      const own = recordOf(refused, { supersedes: 'audit-lost' });
      const checked = auditIdRow(input([refused], [lost, own]));
      expect(checked).toMatchObject({ pass: true, expected: '1 of 1 answers' });
      expect(checked.observed).toMatch(/^1 own,.* 0 on another request or outcome/);
    });

    it("fails if the refusal carried the signed record's id (the defect this guards against)", () => {
      const refused = exchange({ kind: 'retry-same', status: 503, code: 'upstream_unavailable' });
      const checked = auditIdRow(input([refused], [recordOf(refused, { outcome: 'signed' })]));
      expect(checked.pass).toBe(false);
      expect(checked.observed).toContain('1 on another request or outcome');
    });
  });

  describe('when anonymous refusals past the budget share a summary record', () => {
    it('passes and counts them as summarised', () => {
      const answers = [exchange({}), exchange({ kind: 'huge-path', status: 404, code: 'invalid_request' })];
      for (const e of answers) e.auditId = 'summary-1';
      const checked = auditIdRow(input(answers, [summaryOf('summary-1', answers)]));
      expect(checked.pass).toBe(true);
      expect(checked.observed).toMatch(/^0 own, 2 via 1 summaries/);
    });
  });

  describe('when requests of different operations share an ordinary record (a shared error)', () => {
    it('fails', () => {
      const first = exchange({ code: 'upstream_unavailable', status: 503, kind: 'sign-file' });
      const second = exchange({ code: 'upstream_unavailable', status: 503, kind: 'sign-file' });
      second.auditId = first.auditId;
      const checked = auditIdRow(input([first, second], [recordOf(first)]));
      expect(checked.pass).toBe(false);
      expect(checked.observed).toContain('2 shared by requests');
    });
  });

  describe('when an answer names a record that is not in the trail', () => {
    it('fails outside every fault', () => {
      const checked = auditIdRow(input([exchange({})], []));
      expect(checked.pass).toBe(false);
      expect(checked.observed).toContain('1 missing');
    });

    it('excuses it while the audit store was down', () => {
      const checked = auditIdRow(input([exchange({ start: 12_000, end: 12_010 })], [], [postgresDown]));
      expect(checked.pass).toBe(true);
      expect(checked.observed).toContain('1 excused');
    });
  });

  describe("when an answer names another request's record or another outcome", () => {
    it('fails', () => {
      const mine = exchange({});
      const other = exchange({});
      const wrongOutcome = exchange({});
      const checked = auditIdRow(
        input(
          [mine, wrongOutcome],
          [
            recordOf(mine, { correlationId: other.id }),
            recordOf(wrongOutcome, { outcome: 'invalid_dpop_proof' }),
          ],
        ),
      );
      expect(checked.pass).toBe(false);
      expect(checked.observed).toContain('2 on another request or outcome');
    });
  });
});

describe('summaryRow', () => {
  const carrying = (auditId: string, overrides: Array<Partial<Exchange>>) =>
    overrides.map((o) => exchange({ ...o, auditId }));

  describe('when each summary counts exactly the answers that carried its id', () => {
    it('passes', () => {
      const answers = carrying('s-1', [{}, {}, { kind: 'huge-path', status: 404, code: 'invalid_request' }]);
      expect(summaryRow(input(answers, [summaryOf('s-1', answers)]))).toMatchObject({ pass: true });
    });
  });

  describe('when a summary counts more refusals than answers carried its id', () => {
    it('fails and says by how much', () => {
      const answers = carrying('s-2', [{}, {}]);
      const checked = summaryRow(input(answers, [summaryOf('s-2', answers, 3)]));
      expect(checked.pass).toBe(false);
      expect(checked.observed).toContain('3 counted, 2 answered on a');
    });
  });

  describe('when a request to that replica went unanswered during the span', () => {
    it('does not judge that summary, and still needs one it can judge', () => {
      const seen = carrying('s-3', [{ replica: 'b', start: 50_000, end: 50_010 }]);
      const blind = carrying('s-4', [{}, {}]);
      const lost = exchange({ status: 0, code: undefined, auditId: undefined, start: 900, end: 1_200 });
      const audit = [summaryOf('s-3', seen), summaryOf('s-4', blind, 3)];
      const checked = summaryRow(input([...seen, ...blind, lost], audit));
      expect(checked.pass).toBe(true);
      expect(checked.observed).toBe('1 of 2 match; 1 overlapped an unanswered request; 0 mismatched');
      expect(summaryRow(input([...blind, lost], [summaryOf('s-4', blind, 3)])).pass).toBe(false);
    });
  });
});
