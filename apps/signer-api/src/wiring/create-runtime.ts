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
  type ManagedStateAdministrator,
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
import { createManagedKeys, type ManagedKeys } from './managed-keys';
import { createCeremonies, type Ceremonies } from './ceremonies';
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
  /** Managed keys (contract §11): the state view `/keys` publishes and `administrator` for ceremonies. */
  keys: ManagedKeys;
  metrics: SignerMetrics;
  /** `/readyz` (public: ready or not) and the admin listener (each dependency), one cached round. */
  readiness: CachedReadiness;
  /** Tracing, when `telemetry.otlpEndpoint` (or a test exporter) is configured. */
  telemetry?: Telemetry;
  /** The decision trail's one owner: routes and the HTTP edge begin, finish and refuse decisions here. */
  decisions: DecisionLog;
  /** Dual-control ceremonies over the managed state (contract §11). */
  ceremonies: Ceremonies;
  close(): Promise<void>;
}

export interface RuntimeOverrides {
  clock?: Clock;
  metrics?: SignerMetrics;
  audit?: AuditSink;
  /** Turns tracing on with this exporter (tests: an in-memory exporter). */
  spanExporter?: SpanExporter;
  /** Applies executed ceremonies instead of the managed keys' administrator (tests). */
  ceremonyAdministrator?: ManagedStateAdministrator;
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
  const keys = await createManagedKeys(config, clock, state, metrics);
  const releases = await createReleases(config, state, metrics, keys.view);
  const signers = keys.registry;
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
  const ceremonies = await createCeremonies(config, {
    authenticator,
    decisions,
    audit,
    clock,
    administrator: overrides.ceremonyAdministrator ?? keys.administrator,
  });
  return {
    config,
    publicBaseUrl: publicBaseUrl(config),
    pipeline,
    referrers: new ReferrersCheck(authenticator, releases, decisions),
    signers,
    keys,
    metrics,
    readiness: new CachedReadiness({
      checks: [
        ...readinessChecks(config, state),
        ...authorityReadiness,
        ...auditReadiness(audit),
        ...keys.readiness,
      ],
      details: () => keys.details(),
      clock,
      cacheMs: config.server.readinessCacheMs,
    }),
    telemetry,
    decisions,
    ceremonies,
    close: async () => {
      await ceremonies.close();
      await keys.close();
      await decisions.close();
      await audit.close();
      await state.close();
      await telemetry?.shutdown();
    },
  };
}
