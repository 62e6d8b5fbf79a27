import type { GateName, PipelineObserver, SignerError } from '@signer/core';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** The contract's metrics (§8), on a registry of their own so tests and replicas never share state. */
export class SignerMetrics implements PipelineObserver {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'signer_requests_total',
    help: 'Decisions by outcome (signed, checked, or the refusal code) and signing mode.',
    labelNames: ['outcome', 'mode'],
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'signer_request_duration_seconds',
    help: 'Time spent per pipeline stage; stage="total" is the whole decision.',
    labelNames: ['stage'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
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

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  gate(gate: GateName, seconds: number, verdict: string): void {
    this.duration.observe({ stage: gate }, seconds);
    if (gate === 'poe') this.poe.inc({ result: verdict === 'pass' ? 'allow' : verdict });
  }

  outcome(outcome: string, mode: string, seconds: number): void {
    this.requests.inc({ outcome, mode });
    this.duration.observe({ stage: 'total' }, seconds);
  }

  /** Counts what a refusal says about limits and upstreams. */
  refusal(error: SignerError): void {
    if (error.code === 'plan_throttled') this.throttled.inc({ limit: error.limit ?? 'unknown' });
    if (error.code === 'upstream_unavailable')
      this.upstreamErrors.inc({ upstream: error.upstream ?? 'unknown' });
    // A refusal whose own audit record could not be written is also an audit-trail failure.
    if ((error as { auditFailure?: unknown }).auditFailure !== undefined && error.upstream !== 'audit')
      this.upstreamErrors.inc({ upstream: 'audit' });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
