import diagnostics from 'node:diagnostics_channel';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@signer/testing';
import { Caller, startHarness, validBody, type Harness } from './harness';
import { logRecords, SIGN_GATES } from './operability-harness';

const CALLER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';

describe('OpenTelemetry tracing (e2e)', () => {
  describe('when telemetry is not configured', () => {
    let harness: Harness;
    beforeAll(async () => {
      harness = await startHarness();
      const caller = await Caller.create(harness);
      expect((await caller.sign(validBody(harness))).statusCode).toBe(200);
    }, 30_000);
    afterAll(() => harness.close());

    it('starts no SDK, subscribes to no channel and records nothing', () => {
      expect(harness.runtime.telemetry).toBeUndefined();
      expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
      for (const channel of [
        'http.client.request.start',
        'undici:request:create',
        'tracing:ioredis:command:start',
      ]) {
        expect(diagnostics.hasSubscribers(channel)).toBe(false);
      }
    });

    it('writes no trace ids in the logs', () => {
      expect(logRecords(harness).some((line) => 'traceId' in line && line['traceId'] !== undefined)).toBe(
        false,
      );
    });
  });

  describe('when an exporter is configured', () => {
    const exporter = new InMemorySpanExporter();
    let db: ThrowawayDatabase;
    let harness: Harness;
    let spans: ReadableSpan[];
    let signed: ReadableSpan;

    beforeAll(async () => {
      db = await createThrowawayDatabase('signer_trace');
      harness = await startHarness({
        env: { SIGNER__AUDIT__SINK: 'postgres', SIGNER__AUDIT__POSTGRESURL: db.url },
        spanExporter: exporter,
      });
      const caller = await Caller.create(harness);
      const traceparent = `00-${CALLER_TRACE_ID}-${CALLER_SPAN_ID}-01`;
      const response = await caller.sign(validBody(harness), { traceparent });
      expect(response.statusCode).toBe(200);
      spans = exporter.getFinishedSpans();
      signed = spans.filter((span) => span.name === 'POST /api/v1/signer/sign/dsse').pop() as ReadableSpan;
    }, 60_000);

    afterAll(async () => {
      await harness.close();
      await db.drop();
    }, 60_000);

    const childrenOf = (parent: ReadableSpan) =>
      spans.filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId);

    it("joins the caller's trace with a server span per request", () => {
      expect(signed.spanContext().traceId).toBe(CALLER_TRACE_ID);
      expect(signed.parentSpanContext?.spanId).toBe(CALLER_SPAN_ID);
      expect(signed.attributes).toMatchObject({ 'http.response.status_code': 200 });
    });

    it('records a span per gate under the request span, each with its verdict', () => {
      const gates = childrenOf(signed).filter((span) => span.name.startsWith('gate '));
      expect([...new Set(gates.map((span) => span.attributes['signer.gate']))]).toEqual(SIGN_GATES);
      expect(gates.every((span) => span.attributes['signer.verdict'] === 'pass')).toBe(true);
    });

    it('records the PostgreSQL commit, linked to the audit gate that waited for it', () => {
      const auditGate = childrenOf(signed).find((span) => span.name === 'gate audit') as ReadableSpan;
      const commits = spans.filter((span) => span.name === 'audit postgres commit');
      expect(
        commits.some((span) =>
          span.links.some((link) => link.context.spanId === auditGate.spanContext().spanId),
        ),
      ).toBe(true);
      expect(commits[0].attributes).toMatchObject({ 'db.system.name': 'postgresql' });
    });

    it('marks a refused gate with its contract code', () => {
      const nonceDance = spans.filter((span) => span.name === 'POST /api/v1/signer/sign/dsse')[0];
      const binding = childrenOf(nonceDance).find((span) => span.name === 'gate binding');
      expect(binding?.attributes['signer.verdict']).toBe('use_dpop_nonce');
    });

    it('writes the trace id in the request log lines', () => {
      const lines = logRecords(harness).filter((line) => line['traceId'] === CALLER_TRACE_ID);
      expect(lines.map((line) => line['msg'])).toEqual(
        expect.arrayContaining(['request refused', 'request completed']),
      );
    });
  });
});
