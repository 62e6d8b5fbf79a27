import { CachingReleaseVerifier, type ReleaseVerdict, type ReleaseVerifier } from '@signer/core';
import { loadTrustedKeys, OciLayoutReleaseVerifier } from '@signer/infra-oci';
import type { SignerConfig } from '../config/config-schema';
import type { SignerMetrics } from '../observability/metrics';
import type { SharedState } from './shared-state';

/** Gate 5: release integrity from the configured source, behind the verdict cache. */
export async function createReleases(
  config: SignerConfig,
  state: SharedState,
  metrics: SignerMetrics,
): Promise<ReleaseVerifier> {
  const { releaseIntegrity } = config;
  const source: ReleaseVerifier = new OciLayoutReleaseVerifier({
    layoutPath: releaseIntegrity.ociLayoutPath as string,
    trustedKeys: await loadTrustedKeys(releaseIntegrity.trustedKeysFiles),
  });
  return new CachingReleaseVerifier({
    inner: {
      verify: async (digest) => {
        const verdict = await source.verify(digest);
        metrics.releaseVerdicts.inc({
          result: verdict.trusted ? 'trusted' : (verdict.reason ?? 'untrusted'),
          source: verdict.source,
        });
        return verdict;
      },
    },
    cache: state.cache<ReleaseVerdict>('release'),
    cacheTtlSeconds: releaseIntegrity.cacheTtlSeconds,
    negativeCacheTtlSeconds: releaseIntegrity.negativeCacheTtlSeconds,
    onCacheHit: () => metrics.cacheHits.inc({ cache: 'release' }),
  });
}
