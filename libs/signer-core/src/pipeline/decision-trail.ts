import { newAuditId } from '../audit/audit-id';
import type { AuditRecord } from '../audit/audit-record';
import type { SignerErrorCode } from '../errors';
import type { Clock } from '../ports/clock';
import type { GateName, PipelineObserver } from '../ports/pipeline-observer';

/**
 * Collects one decision's gate verdicts, timings and identifiers, and turns them into the audit
 * record. Created when a request enters; the record is written on every exit path.
 */
export class DecisionTrail {
  readonly auditId: string;
  readonly record: AuditRecord;
  private readonly startedAt: number;

  constructor(
    clock: Clock,
    private readonly observer: PipelineObserver,
    correlationId: string,
    route: string,
  ) {
    const now = clock.now();
    this.startedAt = performance.now();
    this.auditId = newAuditId(now);
    this.record = {
      auditId: this.auditId,
      time: now.toISOString(),
      correlationId,
      route,
      outcome: 'internal_error',
      gates: {},
      latencyMs: 0,
    };
  }

  /**
   * Runs one gate, recording its verdict and duration. A gate that answers synchronously (most
   * policies) costs no extra promise hops; an observer with `runGate` (tracing) wraps every gate.
   */
  gate<T>(name: GateName, run: () => T | Promise<T>): Promise<T> {
    const started = performance.now();
    let result: T | Promise<T>;
    try {
      result = this.observer.runGate ? this.observer.runGate(name, async () => run()) : run();
    } catch (error) {
      return Promise.reject(this.refused(name, started, error));
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (value) => {
          this.passed(name, started);
          return value;
        },
        (error: unknown) => {
          throw this.refused(name, started, error);
        },
      );
    }
    this.passed(name, started);
    return Promise.resolve(result);
  }

  private passed(name: GateName, started: number): void {
    this.record.gates[name] = 'pass';
    this.observer.gate(name, (performance.now() - started) / 1000, 'pass');
  }

  /** Records a gate's refusal and returns the error to rethrow. */
  private refused(name: GateName, started: number, error: unknown): unknown {
    const code = (error as { code?: SignerErrorCode } | undefined)?.code ?? 'internal_error';
    this.record.gates[name] = code;
    this.observer.gate(name, (performance.now() - started) / 1000, code);
    return error;
  }

  /** Finalises the record with its outcome and latency. */
  finish(outcome: AuditRecord['outcome']): AuditRecord {
    this.record.outcome = outcome;
    this.record.latencyMs = Math.round((performance.now() - this.startedAt) * 1000) / 1000;
    return this.record;
  }

  /** Reports the final outcome to metrics, once the response is decided. */
  observe(): void {
    this.observer.outcome(this.record.outcome, this.record.mode ?? 'none', this.record.latencyMs / 1000);
    this.observer.decided?.(this.record);
  }
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
