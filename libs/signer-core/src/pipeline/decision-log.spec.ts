import type { AuditRecord } from '../audit/audit-record';
import { SignerError } from '../errors';
import type { AuditSink } from '../ports/audit-sink';
import { DecisionLog, SUMMARY_ROUTE } from './decision-log';

class ManualTime {
  ms = Date.UTC(2030, 0, 1);
  now = (): Date => new Date(this.ms);
}

function recording(): AuditSink & { records: AuditRecord[] } {
  const records: AuditRecord[] = [];
  return {
    records,
    append: async (record) => void records.push(structuredClone(record)),
    close: async () => undefined,
  };
}

const refusal = new SignerError('invalid_token', 'expected a valid signature');

describe('DecisionLog', () => {
  describe('when a decision is refused', () => {
    it('writes one record and answers a copy carrying its audit id', async () => {
      const audit = recording();
      const log = new DecisionLog({ audit, clock: new ManualTime() });
      const trail = log.begin('corr-1', 'POST /api/v1/signer/sign/dsse');
      const answered = await log.refuse(trail, refusal);
      expect(answered).not.toBe(refusal);
      expect(answered).toMatchObject({ code: 'invalid_token', auditId: trail.auditId });
      expect(refusal.auditId).toBeUndefined();
      expect(audit.records).toEqual([
        expect.objectContaining({ auditId: trail.auditId, outcome: 'invalid_token' }),
      ]);
    });

    it('audits it once even when refused again on the way out', async () => {
      const audit = recording();
      const log = new DecisionLog({ audit, clock: new ManualTime() });
      const trail = log.begin('corr-1', 'route');
      const first = await log.refuse(trail, refusal);
      await expect(log.refuse(trail, first)).resolves.toBe(first);
      expect(audit.records).toHaveLength(1);
    });

    it('still answers, with auditFailure set, when the record cannot be written', async () => {
      const disk = new Error('disk full');
      const log = new DecisionLog({
        audit: { append: async () => Promise.reject(disk), close: async () => undefined },
        clock: new ManualTime(),
      });
      const answered = await log.refuse(log.begin('c', 'route'), refusal);
      expect(answered.auditFailure).toBe(disk);
      expect(answered.code).toBe('invalid_token');
    });
  });

  describe('when a decision is allowed', () => {
    it('throws from the audit gate if the record is not durable', async () => {
      const log = new DecisionLog({
        audit: {
          append: async () =>
            Promise.reject(new SignerError('upstream_unavailable', 'down', { upstream: 'audit' })),
          close: async () => undefined,
        },
        clock: new ManualTime(),
      });
      const trail = log.begin('c', 'route');
      await expect(log.finish(trail, 'signed')).rejects.toMatchObject({ upstream: 'audit' });
      expect(trail.record.gates.audit).toBe('upstream_unavailable');
    });

    it('refuses under a new audit id when the allow record may have been written (lost acknowledgement)', async () => {
      // The record reaches the trail, but the sink reports failure (a commit whose reply was cut).
      const audit = recording();
      const lostAck: AuditSink = {
        append: async (record) => {
          await audit.append(record);
          throw new SignerError('upstream_unavailable', 'connection cut during COMMIT', {
            upstream: 'audit',
          });
        },
        close: async () => undefined,
      };
      const log = new DecisionLog({ audit: lostAck, clock: new ManualTime() });
      const trail = log.begin('corr-7', 'POST /api/v1/signer/sign/dsse');
      const allowId = trail.auditId;
      trail.record.bundleSha256 = 'ab'.repeat(32);
      const thrown = await log.finish(trail, 'signed').catch((error: unknown) => error);
      const answered = await log.refuse(trail, thrown);
      expect(answered.code).toBe('upstream_unavailable');
      expect(answered.auditId).not.toBe(allowId);
      expect(audit.records.map((r) => [r.auditId, r.outcome, r.supersedes, r.bundleSha256])).toEqual([
        [allowId, 'signed', undefined, 'ab'.repeat(32)],
        [answered.auditId, 'upstream_unavailable', allowId, undefined],
      ]);
      expect(audit.records[1].correlationId).toBe('corr-7');
    });
  });

  describe('when anonymous refusals arrive faster than their budget', () => {
    it('gives the first ones their own record and counts the rest into one summary per second', async () => {
      const audit = recording();
      const time = new ManualTime();
      const log = new DecisionLog({ audit, clock: time, anonymousRecordsPerSecond: 5 });
      const answers = [];
      for (let n = 0; n < 50; n += 1)
        answers.push(await log.refuse(log.begin(`c${n}`, 'unmatched'), refusal));
      await log.close();
      expect(audit.records).toHaveLength(6);
      const summary = audit.records[5];
      expect(summary).toMatchObject({
        route: SUMMARY_ROUTE,
        outcome: 'summary',
        summary: { refusals: 45, outcomes: { invalid_token: 45 } },
      });
      expect(new Set(answers.slice(0, 5).map((a) => a.auditId)).size).toBe(5);
      expect(answers.slice(5).every((a) => a.auditId === summary.auditId)).toBe(true);
    });

    it('refills the budget as time passes', async () => {
      const audit = recording();
      const time = new ManualTime();
      const log = new DecisionLog({ audit, clock: time, anonymousRecordsPerSecond: 2 });
      for (let n = 0; n < 3; n += 1) await log.refuse(log.begin('c', 'unmatched'), refusal);
      time.ms += 1000;
      const later = await log.refuse(log.begin('c', 'unmatched'), refusal);
      await log.close();
      expect(audit.records.find((r) => r.auditId === later.auditId)?.outcome).toBe('invalid_token');
    });

    it.each([
      ['a caller that proved possession of its token', 'pass', 'plan_throttled'],
      ['a DPoP nonce challenge (the proof was signed by the bound key)', 'use_dpop_nonce', 'use_dpop_nonce'],
    ] as const)('never summarises %s', async (_what, binding, code) => {
      const audit = recording();
      const log = new DecisionLog({ audit, clock: new ManualTime(), anonymousRecordsPerSecond: 1 });
      for (let n = 0; n < 10; n += 1) {
        const trail = log.begin('c', 'route');
        trail.record.gates.binding = binding;
        await log.refuse(trail, new SignerError(code, 'refused'));
      }
      expect(audit.records).toHaveLength(10);
    });
  });

  describe('when a caller chose the text of a field', () => {
    it('keeps the record well-formed and bounded, so it can always be chained', async () => {
      const audit = recording();
      const log = new DecisionLog({ audit, clock: new ManualTime() });
      const trail = log.begin('c', 'route');
      trail.record.predicateType = `p\ud800${'x'.repeat(20_000)}`;
      await log.refuse(trail, new SignerError('invalid_request', 'bad'));
      const stored = audit.records[0].predicateType as string;
      expect(stored.isWellFormed()).toBe(true);
      expect(stored.length).toBeLessThanOrEqual(256);
    });
  });
});
