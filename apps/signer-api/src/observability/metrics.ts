import type { AuditRecord, GateName, PipelineObserver, SignerError } from '@signer/core';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { StageHistogram } from './stage-histogram';

/** The contract's metrics (§8), on a registry of their own so tests and replicas never share state. */
export class SignerMetrics implements PipelineObserver {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'signer_requests_total',
    help: 'Decisions by outcome (signed, checked, or the refusal code) and signing mode.',
    labelNames: ['outcome', 'mode'],
    registers: [this.registry],
  });
  private readonly duration = new StageHistogram(
    'signer_request_duration_seconds',
    'Time spent per pipeline stage; stage="total" is the whole decision.',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    this.registry,
  );
  private readonly poe = new Counter({
    name: 'signer_poe_decisions_total',
    help: 'PoE gate results (allow or the refusal code).',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly releaseVerdicts = new Counter({
    name: 'signer_release_verdicts_total',
    help: 'Release-integrity verdicts by result (trusted or the reason) and source.',
    labelNames: ['result', 'source'],
    registers: [this.registry],
  });
  private readonly throttled = new Counter({
    name: 'signer_quota_throttled_total',
    help: 'Requests refused by a plan limit (qps, concurrency, daily).',
    labelNames: ['limit'],
    registers: [this.registry],
  });
  private readonly upstreamErrors = new Counter({
    name: 'signer_upstream_errors_total',
    help: 'Failures of an upstream dependency.',
    labelNames: ['upstream'],
    registers: [this.registry],
  });
  readonly cacheHits = new Counter({
    name: 'signer_cache_hits_total',
    help: 'Cache hits by cache (poe, release, optok).',
    labelNames: ['cache'],
    registers: [this.registry],
  });

  // Key lifecycle (contract §11): changes this replica committed, and each active key's time left.
  readonly rotationEvents = new Counter({
    name: 'signer_rotation_events_total',
    help: 'Key lifecycle changes committed by this replica (registered, activated, retired, revoked).',
    labelNames: ['event'],
    registers: [this.registry],
  });
  readonly keysRevoked = new Counter({
    name: 'signer_keys_revoked_total',
    help: 'Signing keys revoked by ceremonies committed on this replica.',
    registers: [this.registry],
  });
  private keyExpiry: () => Array<{ key: string; days: number | undefined }> = () => [];
  readonly keyDaysToExpiry = (() => {
    const source = () => this.keyExpiry();
    return new Gauge({
      name: 'signer_key_days_to_expiry',
      help: 'Days until an active key may no longer sign (validUntil or profile maxAgeDays); absent when unbounded.',
      labelNames: ['key'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { key, days } of source()) if (days !== undefined) this.set({ key }, days);
      },
    });
  })();

  /** Counters bound once per label set: prom-client hashes the labels object on every unbound call. */
  private readonly outcomes = new Map<string, ReturnType<Counter['labels']>>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  gate(gate: GateName, seconds: number): void {
    this.duration.observe(gate, seconds);
  }

  /** One PoE decision per request: the gate's final verdict (it also runs for the release window). */
  decided(record: Readonly<AuditRecord>): void {
    const verdict = record.gates.poe;
    if (verdict !== undefined) this.poe.inc({ result: verdict === 'pass' ? 'allow' : verdict });
  }

  outcome(outcome: string, mode: string, seconds: number): void {
    const key = `${outcome} ${mode}`;
    let counter = this.outcomes.get(key);
    if (counter === undefined) {
      counter = this.requests.labels({ outcome, mode });
      this.outcomes.set(key, counter);
    }
    counter.inc();
    this.duration.observe('total', seconds);
  }

  /** Counts what a refusal says about limits and upstreams. */
  refusal(error: SignerError): void {
    if (error.code === 'plan_throttled') this.throttled.inc({ limit: error.limit ?? 'unknown' });
    // A 503 that names no upstream (an idempotency budget or a duplicate still running) is not
    // an upstream failure: the contract's label values are the upstreams only.
    if (error.code === 'upstream_unavailable' && error.upstream !== undefined)
      this.upstreamErrors.inc({ upstream: error.upstream });
    // A refusal whose own audit record could not be written is also an audit-trail failure.
    if (error.auditFailure !== undefined && error.upstream !== 'audit') this.auditFailed();
  }

  /** An audit record could not be written (counted as an `audit` upstream error). */
  auditFailed(): void {
    this.upstreamErrors.inc({ upstream: 'audit' });
  }

  /** Where `signer_key_days_to_expiry` reads the active keys from at each scrape. */
  observeKeyExpiry(source: () => Array<{ key: string; days: number | undefined }>): void {
    this.keyExpiry = source;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
