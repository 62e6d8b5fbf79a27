import {
  DecisionLog,
  IdempotencyGuard,
  ReferrersCheck,
  SigningPipeline,
  SigstoreDsseBundleEncoder,
  systemClock,
  type AuditSink,
  type Clock,
  type KeySignerRegistry,
} from '@signer/core';
import type { SignerConfig } from '../config/config-schema';
import { publicBaseUrl } from '../config/consistency';
import { AjvSignRequestSchema } from '../http/sign-request.schema';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { SignerMetrics } from '../observability/metrics';
import { combineObservers, GateSpans } from '../observability/pipeline-observers';
import { Telemetry } from '../observability/tracing';
import { auditReadiness, createAuditSink } from './audit';
import { createAuthenticator } from './authority';
import { createEntitlements } from './entitlements';
import { createKeySigners } from './key-signers';
import { createQuotas } from './quotas';
import { CachedReadiness } from './cached-readiness';
import { readinessChecks } from './readiness';
import { createReleases } from './releases';
import { createSharedState } from './shared-state';

/** Everything the HTTP layer needs, assembled from config. Backends are chosen in ./wiring only. */
export interface SignerRuntime {
  config: SignerConfig;
  publicBaseUrl: string;
  pipeline: SigningPipeline;
  referrers: ReferrersCheck;
  signers: KeySignerRegistry;
  metrics: SignerMetrics;
  /** `/readyz` (public: ready or not) and the admin listener (each dependency), one cached round. */
  readiness: CachedReadiness;
  /** Tracing, when `telemetry.otlpEndpoint` (or a test exporter) is configured. */
  telemetry?: Telemetry;
  /** The decision trail's one owner: routes and the HTTP edge begin, finish and refuse decisions here. */
  decisions: DecisionLog;
  close(): Promise<void>;
}

export interface RuntimeOverrides {
  clock?: Clock;
  metrics?: SignerMetrics;
  audit?: AuditSink;
  /** Turns tracing on with this exporter (tests: an in-memory exporter). */
  spanExporter?: SpanExporter;
}

export async function createRuntime(
  config: SignerConfig,
  overrides: RuntimeOverrides = {},
): Promise<SignerRuntime> {
  const clock = overrides.clock ?? systemClock;
  const metrics = overrides.metrics ?? new SignerMetrics();
  const telemetry = await Telemetry.start(config, { exporter: overrides.spanExporter });
  const state = await createSharedState(config, clock);
  const { authenticator, readiness: authorityReadiness } = await createAuthenticator(
    config,
    state,
    clock,
    metrics,
  );
  const releases = await createReleases(config, state, metrics);
  const keySigners = await createKeySigners(config, clock, state);
  const signers = keySigners.registry;
  const audit = overrides.audit ?? (await createAuditSink(config));
  const decisions = new DecisionLog({
    audit,
    clock,
    observer: combineObservers([metrics, ...(telemetry ? [new GateSpans(telemetry.tracer)] : [])]),
    anonymousRecordsPerSecond: config.audit.anonymousRecordsPerSecond,
    onSummaryLost: () => metrics.auditFailed(),
  });
  const pipeline = new SigningPipeline({
    schema: new AjvSignRequestSchema(),
    authenticator,
    entitlements: await createEntitlements(config, state, clock, metrics),
    releases,
    quotas: await createQuotas(config, state, clock),
    signers,
    bundles: new SigstoreDsseBundleEncoder(),
    decisions,
    clock,
    idempotency: new IdempotencyGuard({ store: state.idempotency }),
    policy: {
      requiredScope: config.authority.requiredScope,
      allowedPredicates: config.predicates.allowed,
      plans: config.quotas.plans,
      defaultMode: config.signing.defaultMode,
    },
  });
  return {
    config,
    publicBaseUrl: publicBaseUrl(config),
    pipeline,
    referrers: new ReferrersCheck(authenticator, releases, decisions),
    signers,
    metrics,
    readiness: new CachedReadiness({
      checks: [
        ...readinessChecks(config, state),
        ...authorityReadiness,
        ...auditReadiness(audit),
        ...keySigners.readiness,
      ],
      clock,
      cacheMs: config.server.readinessCacheMs,
    }),
    telemetry,
    decisions,
    close: async () => {
      await keySigners.close();
      await decisions.close();
      await audit.close();
      await state.close();
      await telemetry?.shutdown();
    },
  };
}
