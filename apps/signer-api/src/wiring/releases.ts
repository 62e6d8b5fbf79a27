import { CachingReleaseVerifier, type ReleaseVerdict, type ReleaseVerifier } from '@signer/core';
import {
  credentialFor,
  loadTrustedKeys,
  OciLayoutReleaseVerifier,
  RegistryReleaseVerifier,
  type TrustedKey,
} from '@signer/infra-oci';
import type { SignerConfig } from '../config/config-schema';
import type { SignerMetrics } from '../observability/metrics';
import type { SharedState } from './shared-state';

/** The release source: the OCI registry (`registryUrl`) or the offline OCI layout (`ociLayoutPath`). */
function releaseSource(config: SignerConfig, trustedKeys: TrustedKey[]): ReleaseVerifier {
  const { releaseIntegrity } = config;
  const limits = {
    maxManifestBytes: releaseIntegrity.maxManifestBytes,
    maxLayerBytes: releaseIntegrity.maxLayerBytes,
  };
  if (releaseIntegrity.registryUrl !== undefined) {
    return new RegistryReleaseVerifier({
      registryUrl: releaseIntegrity.registryUrl,
      scannerRepository: releaseIntegrity.scannerRepository,
      credential: credentialFor(releaseIntegrity.registryUrl, releaseIntegrity.registryAuth),
      trustedKeys,
      timeoutMs: releaseIntegrity.timeoutMs,
      ...limits,
    });
  }
  return new OciLayoutReleaseVerifier({
    layoutPath: releaseIntegrity.ociLayoutPath as string,
    trustedKeys,
    ...limits,
  });
}

/**
 * Gate 5: release integrity from the configured source, behind the verdict cache (shared in Redis
 * when `quotas.store: redis`). A registry outage is an error, never cached, never a verdict.
 */
export async function createReleases(
  config: SignerConfig,
  state: SharedState,
  metrics: SignerMetrics,
): Promise<ReleaseVerifier> {
  const { releaseIntegrity } = config;
  const source = releaseSource(config, await loadTrustedKeys(releaseIntegrity.trustedKeysFiles));
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
