import { createHash } from 'node:crypto';
import type { ReleaseSource, SignatureEvidence } from '@signer/core';
import { malformed } from '../evidence/signature-evidence';
import { parseIndexManifests, parseJson, type Descriptor } from '../oci/descriptor';
import {
  DOCKER_MANIFEST,
  OCI_IMAGE_INDEX,
  OCI_IMAGE_MANIFEST,
  SIGNATURE_ARTIFACT_TYPES,
} from '../oci/media-types';
import type { RegistryClient } from '../registry/registry-client';
import { RegistryError } from '../registry/registry-error';

export interface DiscoveryLimits {
  maxManifestBytes: number;
  /** More signature manifests than this for one image is abuse: the walk stops with registry_error. */
  maxSignatures: number;
}

/** Where the signatures of one image are, before any of them is fetched. */
export interface DiscoveredSignatures {
  source: Extract<ReleaseSource, 'referrers-api' | 'tag-schema'>;
  /** Signature manifests listed by the Referrers API or by the `sha256-<hex>` tag-schema index. */
  referrers: Descriptor[];
  /** A listing that was itself unusable (a malformed tag-schema index). */
  evidence: SignatureEvidence[];
  /** The manifest under the legacy cosign tag `sha256-<hex>.sig`, when that tag exists. */
  legacy?: Buffer;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The Referrers API, asked once per signature artifact type; `undefined` when it does not exist. */
async function fromReferrersApi(
  client: RegistryClient,
  digest: string,
  limits: DiscoveryLimits,
  signal: AbortSignal,
): Promise<Descriptor[] | undefined> {
  const found: Descriptor[] = [];
  for (const [index, artifactType] of SIGNATURE_ARTIFACT_TYPES.entries()) {
    const listing = await client.referrers(digest, artifactType, limits.maxManifestBytes, signal);
    if (listing) found.push(...listing.descriptors);
    else if (index === 0) return undefined;
    else throw new RegistryError('refused', 'referrers: the API answered 404 after answering 200');
  }
  return found;
}

/** The `sha256-<hex>` index of the referrers tag schema (distribution spec v1.1 fallback). */
async function fromTagSchema(
  client: RegistryClient,
  digest: string,
  limits: DiscoveryLimits,
  signal: AbortSignal,
): Promise<Pick<DiscoveredSignatures, 'referrers' | 'evidence'>> {
  const tag = digest.replace(':', '-');
  const bytes = await client.manifestByTag(tag, [OCI_IMAGE_INDEX], limits.maxManifestBytes, signal);
  if (!bytes) return { referrers: [], evidence: [] };
  const listed = parseIndexManifests(parseJson(bytes));
  if (!listed) return { referrers: [], evidence: malformed(sha256(bytes), 'cosign') };
  // Entries without artifactType are kept: older clients wrote none, and the manifest tells.
  const referrers = listed.filter(
    (d) => d.artifactType === undefined || SIGNATURE_ARTIFACT_TYPES.includes(d.artifactType),
  );
  return { referrers, evidence: [] };
}

/**
 * Finds the signature manifests of `digest`: the Referrers API, or on 404 the tag-schema index;
 * and in both cases the legacy cosign `.sig` tag, which cosign before v3 writes even to registries
 * that have the Referrers API.
 *
 * @see https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#listing-referrers
 */
export async function discoverSignatures(
  client: RegistryClient,
  digest: string,
  limits: DiscoveryLimits,
  signal: AbortSignal,
): Promise<DiscoveredSignatures> {
  const viaApi = await fromReferrersApi(client, digest, limits, signal);
  const listed = viaApi
    ? { referrers: viaApi, evidence: [] }
    : await fromTagSchema(client, digest, limits, signal);
  const legacyTag = `${digest.replace(':', '-')}.sig`;
  const legacy = await client.manifestByTag(
    legacyTag,
    [OCI_IMAGE_MANIFEST, DOCKER_MANIFEST],
    limits.maxManifestBytes,
    signal,
  );
  const unique = [...new Map(listed.referrers.map((d) => [d.digest, d])).values()];
  if (unique.length + (legacy ? 1 : 0) > limits.maxSignatures) {
    throw new RegistryError(
      'refused',
      `expected at most ${limits.maxSignatures} signature manifests per image`,
    );
  }
  return {
    source: viaApi ? 'referrers-api' : 'tag-schema',
    referrers: unique,
    evidence: listed.evidence,
    legacy,
  };
}
