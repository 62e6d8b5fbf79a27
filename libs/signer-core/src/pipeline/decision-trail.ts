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

  /** Runs one gate, recording its verdict and duration. */
  async gate<T>(name: GateName, run: () => T | Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = this.observer.runGate
        ? await this.observer.runGate(name, async () => run())
        : await run();
      this.record.gates[name] = 'pass';
      this.observer.gate(name, (performance.now() - started) / 1000, 'pass');
      return result;
    } catch (error) {
      const code = (error as { code?: SignerErrorCode }).code ?? 'internal_error';
      this.record.gates[name] = code;
      this.observer.gate(name, (performance.now() - started) / 1000, code);
      throw error;
    }
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
