import {
  CachingEntitlementVerifier,
  CachingReleaseVerifier,
  CallerAuthenticator,
  ReferrersCheck,
  SigningPipeline,
  systemClock,
  type AuditSink,
  type CachedEntitlement,
  type Clock,
  type KeySignerRegistry,
  type ReleaseVerdict,
} from '@signer/core';
import {
  DpopProofVerifier,
  loadJwksFile,
  OfflinePoeVerifier,
  OpTokVerifier,
  TokenBindingVerifier,
} from '@signer/infra-authority';
import { SigstoreDsseBundleEncoder } from '@signer/infra-kms';
import { loadTrustedKeys, OciLayoutReleaseVerifier } from '@signer/infra-oci';
import { MemoryNonceStore, MemoryQuotaGate, MemoryReplayCache, MemoryTtlCache } from '@signer/infra-store';
import type { SignerConfig } from '../config/config-schema';
import { publicBaseUrl } from '../config/consistency';
import { AjvSignRequestSchema } from '../http/sign-request.schema';
import { SignerMetrics } from '../observability/metrics';
import { createAuditSink } from './audit';
import { createKeySigners } from './key-signers';
import { readinessChecks, type ReadinessCheck } from './readiness';

/** Everything the HTTP layer needs, assembled from config. The one place backends are chosen. */
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
  const { authority, licensing, releaseIntegrity } = config;

  const authorityKeys = await loadJwksFile(authority.jwksFile as string);
  const tokens = new OpTokVerifier({
    getKey: authorityKeys.getKey,
    issuer: authority.issuer,
    audience: authority.audience,
    algorithms: authority.allowedAlgorithms,
    clockSkewSeconds: authority.clockSkewSeconds,
    clock,
  });
  const dpop = new DpopProofVerifier({
    algorithms: authority.allowedAlgorithms.flatMap((alg) =>
      alg === 'EdDSA' ? ['EdDSA', 'Ed25519'] : [alg],
    ),
    clockSkewSeconds: authority.clockSkewSeconds,
    nonce: authority.dpop.nonce,
    nonces: new MemoryNonceStore({ ttlSeconds: authority.dpop.nonceTtlSeconds, clock }),
    replay: new MemoryReplayCache({ clock }),
    clock,
  });
  const authenticator = new CallerAuthenticator(
    tokens,
    new TokenBindingVerifier({ senderConstraint: authority.senderConstraint, dpop }),
    authority.requiredScope,
  );

  const licensingKeys = await loadJwksFile(licensing.offlineJwksFile as string);
  const entitlements = new CachingEntitlementVerifier({
    inner: new OfflinePoeVerifier({
      getKey: licensingKeys.getKey,
      clock,
      clockSkewSeconds: authority.clockSkewSeconds,
    }),
    cache: new MemoryTtlCache<CachedEntitlement>({ clock }),
    clock,
    cacheTtlSeconds: licensing.cacheTtlSeconds,
    negativeCacheTtlSeconds: licensing.negativeCacheTtlSeconds,
    onCacheHit: () => metrics.cacheHits.inc({ cache: 'poe' }),
  });

  const layoutVerifier = new OciLayoutReleaseVerifier({
    layoutPath: releaseIntegrity.ociLayoutPath as string,
    trustedKeys: await loadTrustedKeys(releaseIntegrity.trustedKeysFiles),
  });
  const releases = new CachingReleaseVerifier({
    inner: {
      verify: async (digest) => {
        const verdict = await layoutVerifier.verify(digest);
        metrics.releaseVerdicts.inc({
          result: verdict.trusted ? 'trusted' : (verdict.reason ?? 'untrusted'),
          source: verdict.source,
        });
        return verdict;
      },
    },
    cache: new MemoryTtlCache<ReleaseVerdict>({ clock }),
    cacheTtlSeconds: releaseIntegrity.cacheTtlSeconds,
    negativeCacheTtlSeconds: releaseIntegrity.negativeCacheTtlSeconds,
    onCacheHit: () => metrics.cacheHits.inc({ cache: 'release' }),
  });

  const signers = await createKeySigners(config);
  const audit = overrides.audit ?? (await createAuditSink(config));
  const pipeline = new SigningPipeline({
    schema: new AjvSignRequestSchema(),
    authenticator,
    entitlements,
    releases,
    quotas: new MemoryQuotaGate({ clock }),
    signers,
    bundles: new SigstoreDsseBundleEncoder(),
    audit,
    clock,
    observer: metrics,
    policy: {
      requiredScope: authority.requiredScope,
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
    readiness: readinessChecks(config),
    close: () => audit.close(),
  };
}
