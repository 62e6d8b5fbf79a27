import { SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { GateName, PipelineObserver } from '@signer/core';

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
