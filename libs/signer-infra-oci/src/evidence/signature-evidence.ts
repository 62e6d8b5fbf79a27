import type { SignatureEvidence } from '@signer/core';
import { cosignEvidence, isCosignManifest } from '../cosign/cosign-evidence';
import type { BlobRead, Descriptor, ManifestView } from '../oci/descriptor';
import { SIGSTORE_BUNDLE_TYPES } from '../oci/media-types';
import { bundleEvidence, isBundleManifest } from '../sigstore-bundle/bundle-evidence';
import type { TrustedKey } from '../trusted-keys/trusted-keys';

/** Where a verifier reads what a signature manifest points at; `undefined` = missing or too large. */
export interface EvidenceReader {
  /** The scanner image digest being verified. */
  digest: string;
  trustedKeys: readonly TrustedKey[];
  readLayer: (layer: Descriptor) => Promise<BlobRead | undefined>;
  /** The scanner image manifest bytes, verified against `digest`. */
  readSubject: () => Promise<Buffer | undefined>;
}

/** The evidence kind a listing's artifact type announces, for manifests that cannot be read. */
export function announcedKind(artifactType: string | undefined): SignatureEvidence['kind'] {
  return artifactType !== undefined && SIGSTORE_BUNDLE_TYPES.includes(artifactType)
    ? 'sigstore-bundle'
    : 'cosign';
}

export function malformed(manifestDigest: string, kind: SignatureEvidence['kind']): SignatureEvidence[] {
  return [{ kind, manifestDigest, verified: false, problem: 'malformed_manifest' }];
}

/** The signature format a manifest claims, or `undefined` when it is not a signature manifest. */
export function signatureKind(manifest: ManifestView): SignatureEvidence['kind'] | undefined {
  if (isBundleManifest(manifest)) return 'sigstore-bundle';
  return isCosignManifest(manifest) ? 'cosign' : undefined;
}

/**
 * The evidence a signature manifest gives, whatever its format (cosign simple signing or Sigstore
 * bundle), or `undefined` when it is not a signature manifest at all (an SBOM, an attestation).
 */
export async function signatureEvidence(
  manifestDigest: string,
  manifest: ManifestView,
  reader: EvidenceReader,
): Promise<SignatureEvidence[] | undefined> {
  const { digest, trustedKeys } = reader;
  const kind = signatureKind(manifest);
  if (kind === 'sigstore-bundle') {
    return bundleEvidence(manifest, {
      digest,
      manifestDigest,
      trustedKeys,
      readLayer: reader.readLayer,
      readSubject: reader.readSubject,
    });
  }
  if (kind === 'cosign') {
    return cosignEvidence(manifest, { digest, manifestDigest, trustedKeys, readPayload: reader.readLayer });
  }
  return undefined;
}
