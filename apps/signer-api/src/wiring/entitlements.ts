import {
  CachingEntitlementVerifier,
  type CachedEntitlement,
  type Clock,
  type EntitlementVerifier,
} from '@signer/core';
import { loadJwksFile, OfflinePoeVerifier } from '@signer/infra-authority';
import type { SignerConfig } from '../config/config-schema';
import type { SignerMetrics } from '../observability/metrics';
import type { SharedState } from './shared-state';

/** Gate 4: the PoE decision (offline JWT here), behind the deterministic decision cache. */
export async function createEntitlements(
  config: SignerConfig,
  state: SharedState,
  clock: Clock,
  metrics: SignerMetrics,
): Promise<EntitlementVerifier> {
  const { licensing } = config;
  const keys = await loadJwksFile(licensing.offlineJwksFile as string);
  return new CachingEntitlementVerifier({
    inner: new OfflinePoeVerifier({
      getKey: keys.getKey,
      clock,
      clockSkewSeconds: config.authority.clockSkewSeconds,
    }),
    cache: state.cache<CachedEntitlement>('poe'),
    clock,
    cacheTtlSeconds: licensing.cacheTtlSeconds,
    negativeCacheTtlSeconds: licensing.negativeCacheTtlSeconds,
    onCacheHit: () => metrics.cacheHits.inc({ cache: 'poe' }),
  });
}
