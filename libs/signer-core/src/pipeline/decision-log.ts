import type { AuditRecord } from '../audit/audit-record';
import { toSignerError, type SignerError } from '../errors';
import type { AuditSink } from '../ports/audit-sink';
import type { Clock } from '../ports/clock';
import { noopObserver, type PipelineObserver } from '../ports/pipeline-observer';
import { DecisionTrail } from './decision-trail';

/** Anonymous refusals that each get a record of their own per second (and as a burst). */
export const DEFAULT_ANONYMOUS_RECORDS_PER_SECOND = 100;
/** A summary record covers at most this long a span of anonymous refusals. */
export const SUMMARY_WINDOW_MS = 1000;
/** The route of a summary record. */
export const SUMMARY_ROUTE = 'anonymous refusals';

export interface DecisionLogOptions {
  audit: AuditSink;
  clock: Clock;
  observer?: PipelineObserver;
  /**
   * Refusals of callers that have not proved possession of a token (unknown routes, bad bodies,
   * bad tokens) that each get their own record per second; past it they are counted into one
   * summary record per second, so anonymous traffic cannot grow the trail without bound.
   */
  anonymousRecordsPerSecond?: number;
  /** Told when a summary record could not be written (no request is waiting on it to report it). */
  onSummaryLost?: (cause: unknown) => void;
}

interface PendingSummary {
  trail: DecisionTrail;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The one owner of the decision trail. Every route and the HTTP edge begin a decision here, and
 * finish or refuse it here, exactly once: each decision gets its own audit id and record, whatever
 * upstream failure it shares with others.
 */
export class DecisionLog {
  private readonly observer: PipelineObserver;
  private readonly rate: number;
  private tokens: number;
  private refilledAt: number;
  private summary?: PendingSummary;
  private readonly flushing = new Set<Promise<void>>();

  constructor(private readonly options: DecisionLogOptions) {
    this.observer = options.observer ?? noopObserver;
    this.rate = options.anonymousRecordsPerSecond ?? DEFAULT_ANONYMOUS_RECORDS_PER_SECOND;
    this.tokens = this.rate;
    this.refilledAt = options.clock.now().getTime();
  }

  /** Starts the decision of one request on `route` (a fixed route name, never the raw URL). */
  begin(correlationId: string, route: string): DecisionTrail {
    return new DecisionTrail(this.options.clock, this.observer, correlationId, route);
  }

  /**
   * Records an allowed decision (or an idempotent replay) durably. Throws, recorded as the `audit`
   * gate, when the record cannot be written: nothing may be answered as allowed without it.
   */
  async finish(trail: DecisionTrail, outcome: AuditRecord['outcome']): Promise<void> {
    const record = trail.finish(outcome);
    try {
      await trail.gate('audit', () => this.options.audit.append(record));
    } catch (error) {
      // The record may still have reached the trail (a commit whose acknowledgement was lost):
      // the refusal that follows gets an id of its own, never this record's.
      trail.supersede();
      throw error;
    }
    trail.decided = true;
    trail.observe();
  }

  /**
   * Audits a refusal and returns this decision's own error (a copy carrying its audit id). A
   * decision already taken is returned as it is; if even the audit fails, the refusal stands and
   * carries `auditFailure` for the edge to log and count.
   */
  async refuse(trail: DecisionTrail, thrown: unknown): Promise<SignerError> {
    const error = toSignerError(thrown);
    if (trail.decided) return error;
    trail.decided = true;
    const record = trail.finish(error.code);
    if (!trail.authenticated && !this.takeAnonymousToken()) {
      trail.observe();
      return error.forDecision(this.summarise(error.code));
    }
    let auditFailure: unknown;
    try {
      await this.options.audit.append(record);
    } catch (failure) {
      auditFailure = failure ?? new Error('audit append failed');
    }
    trail.observe();
    return error.forDecision(trail.auditId, auditFailure);
  }

  /** Writes a pending summary record; call before closing the audit sink. */
  async close(): Promise<void> {
    if (this.summary) this.flush();
    await Promise.all([...this.flushing]);
  }

  private takeAnonymousToken(): boolean {
    const now = this.options.clock.now().getTime();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.refilledAt) / 1000) * this.rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Counts a refusal into the current summary record; returns that record's audit id. */
  private summarise(code: SignerError['code']): string {
    if (!this.summary) {
      const trail = this.begin('-', SUMMARY_ROUTE);
      trail.record.summary = { refusals: 0, outcomes: {}, until: trail.record.time };
      const timer = setTimeout(() => this.flush(), SUMMARY_WINDOW_MS);
      timer.unref?.();
      this.summary = { trail, timer };
    }
    const summary = this.summary.trail.record.summary as NonNullable<AuditRecord['summary']>;
    summary.refusals += 1;
    summary.outcomes[code] = (summary.outcomes[code] ?? 0) + 1;
    summary.until = this.options.clock.now().toISOString();
    return this.summary.trail.auditId;
  }

  private flush(): void {
    const pending = this.summary;
    if (!pending) return;
    this.summary = undefined;
    clearTimeout(pending.timer);
    const record = pending.trail.finish('summary');
    const write = this.options.audit
      .append(record)
      .catch((cause: unknown) => this.options.onSummaryLost?.(cause))
      .finally(() => this.flushing.delete(write));
    this.flushing.add(write);
  }
}
