import { createHash } from 'node:crypto';
import {
  CachingReleaseVerifier,
  type ManagedStateView,
  type ReleaseVerdict,
  type ReleaseVerifier,
  type TrustAnchor,
} from '@signer/core';
import {
  credentialFor,
  loadTrustedKeys,
  OciLayoutReleaseVerifier,
  parseTrustedKeys,
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

/** The anchors the release verifier can check with; one it cannot parse never matches anything. */
function trustedKeysOf(anchors: readonly TrustAnchor[]): TrustedKey[] {
  return anchors.flatMap((anchor) => {
    try {
      return parseTrustedKeys(anchor.publicKeyPem, `trust anchor ${anchor.keyId}`);
    } catch {
      return [];
    }
  });
}

/**
 * Gate 5: release integrity from the configured source, behind the verdict cache (shared in Redis
 * when `quotas.store: redis`). A registry outage is an error, never cached, never a verdict.
 * The trusted release keys are the managed trust anchors (contract §11; seeded from
 * `trustedKeysFiles`): each anchor set gets its own verifier and its own cache namespace, so a
 * verdict reached under other anchors is never reused — an anchor change applies as soon as the
 * view sees it (the state bound), not after the verdict cache's TTL.
 */
export async function createReleases(
  config: SignerConfig,
  state: SharedState,
  metrics: SignerMetrics,
  view: ManagedStateView,
): Promise<ReleaseVerifier> {
  const { releaseIntegrity } = config;
  // The configured files are still read at every start: a broken trust file stops the process.
  await loadTrustedKeys(releaseIntegrity.trustedKeysFiles);
  let current: { id: string; verifier: ReleaseVerifier } | undefined;
  const verifierFor = (anchors: readonly TrustAnchor[]): ReleaseVerifier => {
    const ids = anchors.map((a) => a.keyId).sort();
    const id = createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 16);
    if (current?.id === id) return current.verifier;
    const source = releaseSource(config, trustedKeysOf(anchors));
    const verifier = new CachingReleaseVerifier({
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
      cache: state.cache<ReleaseVerdict>(`release:${id}`),
      cacheTtlSeconds: releaseIntegrity.cacheTtlSeconds,
      negativeCacheTtlSeconds: releaseIntegrity.negativeCacheTtlSeconds,
      onCacheHit: () => metrics.cacheHits.inc({ cache: 'release' }),
    });
    current = { id, verifier };
    return verifier;
  };
  return { verify: (digest) => verifierFor(view.current().trustAnchors).verify(digest) };
}
