import { newAuditId } from '../audit/audit-id';
import type { AuditRecord } from '../audit/audit-record';
import { boundedText } from '../audit/bounded-text';
import type { SignerErrorCode } from '../errors';
import type { Clock } from '../ports/clock';
import type { GateName, PipelineObserver } from '../ports/pipeline-observer';

/**
 * Collects one decision's gate verdicts, timings and identifiers, and turns them into the audit
 * record. Begun by {@link DecisionLog.begin} when a request enters and travels with the request;
 * the record is written on every exit path by {@link DecisionLog}, once.
 */
export class DecisionTrail {
  private id: string;
  private current: AuditRecord;
  /** Set once the decision is taken (allowed or refused): it is audited at most once. */
  decided = false;
  private readonly startedAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly observer: PipelineObserver,
    correlationId: string,
    route: string,
  ) {
    const now = clock.now();
    this.startedAt = performance.now();
    this.id = newAuditId(now);
    this.current = {
      auditId: this.id,
      time: now.toISOString(),
      correlationId: boundedText(correlationId),
      route: boundedText(route),
      outcome: 'internal_error',
      gates: {},
      latencyMs: 0,
    };
  }

  /** This decision's audit id: the one its answer carries. */
  get auditId(): string {
    return this.id;
  }

  /** The record this decision will write. */
  get record(): AuditRecord {
    return this.current;
  }

  /**
   * Gives the decision a new audit id after its allow record could not be confirmed written (the
   * write failed, or its commit's outcome is unknown): the refusal that follows is recorded under
   * the new id with `supersedes` naming the old one, so an allow record that did reach the trail
   * never shares its id with the refusal the caller was answered. The old record object is left
   * untouched (a sink may still hold it).
   */
  supersede(): void {
    const previous = this.id;
    const { bundleSha256: _notReleased, ...rest } = this.current;
    this.id = newAuditId(this.clock.now());
    this.current = { ...rest, auditId: this.id, supersedes: previous };
  }

  /**
   * Whether the caller proved possession of its token: refusals before that are anonymous. A
   * `use_dpop_nonce` refusal counts as proven too: the nonce is checked after the proof's signature
   * by the token's key, and every well-behaved client meets it once per nonce lifetime.
   */
  get authenticated(): boolean {
    const binding = this.record.gates.binding;
    return binding === 'pass' || binding === 'use_dpop_nonce';
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

  /**
   * Finalises the record with its outcome and latency. Every string a caller or an upstream could
   * have influenced is made well-formed and bounded here, so the record can always be chained.
   */
  finish(outcome: AuditRecord['outcome']): AuditRecord {
    const { record } = this;
    record.outcome = outcome;
    record.latencyMs = Math.round((performance.now() - this.startedAt) * 1000) / 1000;
    for (const field of BOUNDED_FIELDS) {
      const value = record[field];
      if (value !== undefined) record[field] = boundedText(value);
    }
    const caller = record.caller;
    if (caller) {
      caller.sub = boundedText(caller.sub);
      if (caller.clientId !== undefined) caller.clientId = boundedText(caller.clientId);
      if (caller.tokenJti !== undefined) caller.tokenJti = boundedText(caller.tokenJti);
    }
    return record;
  }

  /** Reports the final outcome to metrics, once the response is decided. */
  observe(): void {
    this.observer.outcome(this.record.outcome, this.record.mode ?? 'none', this.record.latencyMs / 1000);
    this.observer.decided?.(this.record);
  }
}

/** Top-level string fields whose value a caller, a token or an upstream chose. */
const BOUNDED_FIELDS = [
  'tenant',
  'installation',
  'licenseId',
  'plan',
  'predicateType',
  'scannerImageDigest',
  'mode',
  'keyId',
  'certificateSerial',
] as const satisfies readonly (keyof AuditRecord)[];

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
