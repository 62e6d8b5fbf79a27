import { faultWindow } from './fault-window-fixture';
import { judge, type JudgeOptions } from './judge';
import type { Exchange } from './ledger';
import type { FaultWindow } from './phases';

let ids = 0;
const exchange = (overrides: Partial<Exchange>): Exchange => {
  const id = `soak-${(ids += 1)}`;
  return {
    id,
    op: ids,
    step: 0,
    kind: 'sign-file',
    replica: 'a',
    tenant: 'tenant-1',
    start: 1_000,
    end: 1_050,
    status: 200,
    correlationEcho: id,
    ...overrides,
  };
};
const options = (...windows: FaultWindow[]): JudgeOptions => ({
  windows,
  recoveryBoundMs: 5_000,
  byOp: new Map(),
});
const refusal = (status: number, code: string, overrides: Partial<Exchange> = {}) =>
  exchange({ status, code, problemJson: true, auditId: 'x', ...overrides });

describe('judge', () => {
  describe('when nothing is broken', () => {
    it('accepts each kind with its own answer', () => {
      expect(judge(exchange({}), options())).toEqual({ ok: true });
      expect(judge(refusal(401, 'invalid_token', { kind: 'bad-token' }), options())).toEqual({ ok: true });
      expect(judge(refusal(429, 'plan_throttled', { kind: 'sign-quota' }), options())).toEqual({ ok: true });
    });

    it('refuses a 503, a wrong code for the kind, and an answer outside the contract', () => {
      expect(judge(refusal(503, 'upstream_unavailable'), options())).toMatchObject({
        ok: false,
        rule: 'steady',
      });
      expect(judge(refusal(403, 'tenant_mismatch', { kind: 'bad-token' }), options())).toMatchObject({
        ok: false,
        rule: 'steady',
      });
      expect(judge(refusal(500, 'internal_error'), options())).toMatchObject({ ok: false, rule: 'contract' });
      expect(judge(refusal(418, 'teapot'), options())).toMatchObject({ ok: false, rule: 'contract' });
      expect(judge(exchange({ status: 0, transportError: 'reset' }), options())).toMatchObject({
        ok: false,
        rule: 'contract',
      });
    });
  });

  describe('when hostile requests carry no credentials', () => {
    it('accepts 404 for a huge unknown path and 405 with the expected Allow for a wrong method', () => {
      expect(judge(refusal(404, 'invalid_request', { kind: 'huge-path' }), options())).toEqual({ ok: true });
      const wrongMethod = { kind: 'wrong-method' as const, expectedAllow: 'POST' };
      expect(judge(refusal(405, 'invalid_request', { ...wrongMethod, allow: 'POST' }), options())).toEqual({
        ok: true,
      });
    });

    it('refuses a 405 without the Allow the path has, and a 404 for a known path with a wrong method', () => {
      const wrongMethod = { kind: 'wrong-method' as const, expectedAllow: 'GET, HEAD' };
      expect(
        judge(refusal(405, 'invalid_request', { ...wrongMethod, allow: undefined }), options()),
      ).toMatchObject({ ok: false, rule: 'contract' });
      expect(judge(refusal(404, 'invalid_request', wrongMethod), options())).toMatchObject({
        ok: false,
        rule: 'steady',
      });
    });

    it('accepts a readiness answer of 200 or 503 with a status, nothing else', () => {
      const probe = (status: number, readiness?: string) =>
        exchange({ kind: 'readyz-flood', method: 'GET', status, readiness });
      expect(judge(probe(200, 'ready'), options())).toEqual({ ok: true });
      expect(judge(probe(503, 'not_ready'), options())).toEqual({ ok: true });
      expect(judge(probe(503), options())).toMatchObject({ ok: false, rule: 'contract' });
      expect(judge(probe(404, 'ready'), options())).toMatchObject({ ok: false, rule: 'contract' });
    });
  });

  describe('when a tenant sends large bodies with fresh Idempotency-Keys', () => {
    it('accepts 200 until its idempotency bytes are spent, then 429', () => {
      expect(judge(exchange({ kind: 'large-idempotent' }), options())).toEqual({ ok: true });
      expect(judge(refusal(429, 'plan_throttled', { kind: 'large-idempotent' }), options())).toEqual({
        ok: true,
      });
      expect(
        judge(refusal(413, 'artifact_too_large', { kind: 'large-idempotent' }), options()),
      ).toMatchObject({ ok: false, rule: 'steady' });
    });
  });

  describe('when PostgreSQL is down', () => {
    const outage = faultWindow('postgres-stopped', 'postgres');

    it('accepts 503 during the fault and its recovery, and refusals with their own code', () => {
      expect(
        judge(refusal(503, 'upstream_unavailable', { start: 12_000, end: 12_010 }), options(outage)),
      ).toEqual({
        ok: true,
      });
      expect(
        judge(refusal(503, 'upstream_unavailable', { start: 24_000, end: 24_010 }), options(outage)),
      ).toEqual({
        ok: true,
      });
      expect(
        judge(
          refusal(400, 'invalid_request', { kind: 'bad-json', start: 12_000, end: 12_010 }),
          options(outage),
        ),
      ).toEqual({ ok: true });
    });

    it('refuses a 200 that began and ended inside the fault', () => {
      expect(judge(exchange({ start: 12_000, end: 12_050 }), options(outage))).toMatchObject({
        ok: false,
        rule: 'fault',
      });
    });

    it('accepts a 200 still running when the fault was removed', () => {
      expect(judge(exchange({ start: 19_900, end: 20_050 }), options(outage))).toEqual({ ok: true });
    });
  });

  describe('when one master of the Redis Cluster fails over', () => {
    const failover = faultWindow('redis-master-failover', 'redis-shard');

    it('accepts 503 during the fault and its recovery, as for a Redis restart', () => {
      for (const start of [12_000, 24_000])
        expect(
          judge(refusal(503, 'upstream_unavailable', { start, end: start + 10 }), options(failover)),
        ).toEqual({ ok: true });
      expect(
        judge(refusal(503, 'upstream_unavailable', { start: 40_000, end: 40_010 }), options(failover)),
      ).toMatchObject({ ok: false, rule: 'steady' });
    });

    it('accepts a 200 inside the fault (its keys may all live on the other masters)', () => {
      expect(judge(exchange({ start: 12_000, end: 12_050 }), options(failover))).toEqual({ ok: true });
      expect(
        judge(exchange({ start: 12_000, end: 12_050 }), options(faultWindow('redis-restart', 'redis'))),
      ).toMatchObject({ ok: false, rule: 'fault' });
    });
  });

  describe('when Licensing fails', () => {
    const failing = faultWindow('licensing-500s', 'licensing');

    it('accepts a 200 while a cached decision may still be valid, not after', () => {
      expect(judge(exchange({ start: 11_000, end: 11_050 }), options(failing))).toEqual({ ok: true });
      expect(judge(exchange({ start: 15_000, end: 15_050 }), options(failing))).toMatchObject({ ok: false });
    });

    it('accepts hostile requests refused before the PoE gate', () => {
      expect(
        judge(refusal(401, 'invalid_token', { kind: 'bad-token', start: 15_000 }), options(failing)),
      ).toEqual({
        ok: true,
      });
    });
  });

  describe('when KMS throttles', () => {
    it('accepts 200s for requests that do not use KMS', () => {
      const throttled = faultWindow('kms-throttling', 'kms');
      expect(judge(exchange({ start: 15_000, end: 15_050 }), options(throttled))).toEqual({ ok: true });
      expect(
        judge(exchange({ kind: 'sign-aws', start: 15_000, end: 15_050 }), options(throttled)),
      ).toMatchObject({
        ok: false,
      });
    });
  });

  describe('when a replica is killed', () => {
    const kill = faultWindow('replica-sigkill', 'replica', 'c');

    it('accepts no answer from the victim only', () => {
      const lost = { status: 0, transportError: 'ECONNREFUSED', start: 15_000, end: 15_001 };
      expect(judge(exchange({ ...lost, replica: 'c' }), options(kill))).toEqual({ ok: true });
      expect(judge(exchange({ ...lost, replica: 'a' }), options(kill))).toMatchObject({ ok: false });
    });

    it('refuses a 503 from the survivors', () => {
      expect(
        judge(
          refusal(503, 'upstream_unavailable', { replica: 'a', start: 15_000, end: 15_010 }),
          options(kill),
        ),
      ).toMatchObject({ ok: false, rule: 'steady' });
    });
  });
});
