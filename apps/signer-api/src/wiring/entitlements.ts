import {
  CachingEntitlementVerifier,
  type CachedEntitlement,
  type Clock,
  type EntitlementVerifier,
} from '@signer/core';
import { loadJwksFile, OfflinePoeVerifier, OnlinePoeVerifier } from '@signer/infra-authority';
import type { SignerConfig } from '../config/config-schema';
import type { SignerMetrics } from '../observability/metrics';
import type { SharedState } from './shared-state';

/** Where PoE decisions come from: Licensing online (`introspectUrl`) or offline JWTs (air gap). */
async function createSource(config: SignerConfig, clock: Clock): Promise<EntitlementVerifier> {
  const { licensing } = config;
  if (licensing.introspectUrl) {
    return new OnlinePoeVerifier({ introspectUrl: licensing.introspectUrl, timeoutMs: licensing.timeoutMs });
  }
  const keys = await loadJwksFile(licensing.offlineJwksFile as string);
  return new OfflinePoeVerifier({
    getKey: keys.getKey,
    clock,
    clockSkewSeconds: config.authority.clockSkewSeconds,
    issuer: licensing.offlineIssuer,
    audience: licensing.offlineAudience,
  });
}

/**
 * Gate 4: the PoE decision behind the deterministic decision cache (contract §4). The cache is
 * the shared one (Redis when `quotas.store: redis`), so every replica serves the same decision.
 */
export async function createEntitlements(
  config: SignerConfig,
  state: SharedState,
  clock: Clock,
  metrics: SignerMetrics,
): Promise<EntitlementVerifier> {
  const { licensing } = config;
  return new CachingEntitlementVerifier({
    inner: await createSource(config, clock),
    cache: state.cache<CachedEntitlement>('poe'),
    clock,
    cacheTtlSeconds: licensing.cacheTtlSeconds,
    negativeCacheTtlSeconds: licensing.negativeCacheTtlSeconds,
    onCacheHit: () => metrics.cacheHits.inc({ cache: 'poe' }),
  });
}
