import { SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { AuditRecord, GateName, PipelineObserver } from '@signer/core';

/** Decisions whose access-log line has not been written yet; bounded so an abandoned one cannot leak. */
export const DEFAULT_DECISION_FACTS_ENTRIES = 10_000;

/**
 * Remembers each decision's tenant until the request's access-log line takes it (by auditId,
 * which is unique per decision, unlike a caller-supplied correlation id). The tenant is whatever
 * the audit record says, so the log and the audit trail agree by construction.
 */
export class DecisionFacts implements PipelineObserver {
  private readonly tenants = new Map<string, string>();

  constructor(private readonly maxEntries = DEFAULT_DECISION_FACTS_ENTRIES) {}

  gate(): void {
    // timings are the metrics' business
  }
  outcome(): void {
    // the outcome comes with the record, in `decided`
  }

  decided(record: Readonly<AuditRecord>): void {
    if (record.tenant === undefined) return;
    this.tenants.set(record.auditId, record.tenant);
    if (this.tenants.size > this.maxEntries) {
      const oldest = this.tenants.keys().next();
      if (!oldest.done) this.tenants.delete(oldest.value);
    }
  }

  /** The tenant of a decision, once: the entry is dropped as it is read. */
  takeTenant(auditId: string | undefined): string | undefined {
    if (auditId === undefined) return undefined;
    const tenant = this.tenants.get(auditId);
    this.tenants.delete(auditId);
    return tenant;
  }
}

/** One span per gate, active while the gate runs so upstream calls become its children. */
export class GateSpans implements PipelineObserver {
  constructor(private readonly tracer: Tracer) {}

  gate(): void {
    // the span, ended in runGate, carries the timing
  }
  outcome(): void {
    // the request span carries the outcome
  }

  runGate<T>(gate: GateName, run: () => Promise<T>): Promise<T> {
    return this.tracer.startActiveSpan(
      `gate ${gate}`,
      { attributes: { 'signer.gate': gate } },
      async (span) => {
        try {
          const result = await run();
          span.setAttribute('signer.verdict', 'pass');
          return result;
        } catch (error) {
          // The contract code only: messages stay in the logs, which have their own redaction.
          const code = (error as { code?: string }).code ?? 'internal_error';
          span.setAttribute('signer.verdict', code);
          span.setStatus({ code: SpanStatusCode.ERROR, message: code });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }
}

/** Several observers as one; `runGate` wrappers nest in the order given. */
export function combineObservers(observers: PipelineObserver[]): PipelineObserver {
  const wrappers = observers.filter((o) => o.runGate !== undefined);
  const combined: PipelineObserver = {
    gate: (gate, seconds, verdict) => observers.forEach((o) => o.gate(gate, seconds, verdict)),
    outcome: (outcome, mode, seconds) => observers.forEach((o) => o.outcome(outcome, mode, seconds)),
    decided: (record) => observers.forEach((o) => o.decided?.(record)),
  };
  if (wrappers.length > 0) {
    combined.runGate = <T>(gate: GateName, run: () => Promise<T>): Promise<T> =>
      wrappers.reduceRight<() => Promise<T>>(
        (inner, observer) => () =>
          (observer.runGate as NonNullable<PipelineObserver['runGate']>)(gate, inner),
        run,
      )();
  }
  return combined;
}
