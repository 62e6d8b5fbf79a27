import {
  IdempotencyGuard,
  ReferrersCheck,
  SigningPipeline,
  systemClock,
  type AuditSink,
  type Clock,
  type KeySignerRegistry,
} from '@signer/core';
import { SigstoreDsseBundleEncoder } from '@signer/infra-kms';
import type { SignerConfig } from '../config/config-schema';
import { publicBaseUrl } from '../config/consistency';
import { AjvSignRequestSchema } from '../http/sign-request.schema';
import { SignerMetrics } from '../observability/metrics';
import { createAuditSink } from './audit';
import { createAuthenticator } from './authority';
import { createEntitlements } from './entitlements';
import { createKeySigners } from './key-signers';
import { createQuotas } from './quotas';
import { readinessChecks, type ReadinessCheck } from './readiness';
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
  readiness: ReadinessCheck[];
  close(): Promise<void>;
}

export interface RuntimeOverrides {
  clock?: Clock;
  metrics?: SignerMetrics;
  audit?: AuditSink;
}

export async function createRuntime(
  config: SignerConfig,
  overrides: RuntimeOverrides = {},
): Promise<SignerRuntime> {
  const clock = overrides.clock ?? systemClock;
  const metrics = overrides.metrics ?? new SignerMetrics();
  const state = await createSharedState(config, clock);
  const { authenticator, readiness: authorityReadiness } = await createAuthenticator(
    config,
    state,
    clock,
    metrics,
  );
  const releases = await createReleases(config, state, metrics);
  const signers = await createKeySigners(config);
  const audit = overrides.audit ?? (await createAuditSink(config));
  const pipeline = new SigningPipeline({
    schema: new AjvSignRequestSchema(),
    authenticator,
    entitlements: await createEntitlements(config, state, clock, metrics),
    releases,
    quotas: await createQuotas(config, state, clock),
    signers,
    bundles: new SigstoreDsseBundleEncoder(),
    audit,
    clock,
    observer: metrics,
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
    referrers: new ReferrersCheck(authenticator, releases, audit),
    signers,
    metrics,
    readiness: [...readinessChecks(config, state), ...authorityReadiness],
    close: async () => {
      await audit.close();
      await state.close();
    },
  };
}
