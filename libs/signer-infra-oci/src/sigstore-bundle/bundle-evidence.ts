import { preAuthEncoding, type SignatureEvidence } from '@signer/core';
import { parseDescriptor, type BlobRead, type Descriptor, type ManifestView } from '../oci/descriptor';
import { IN_TOTO_PAYLOAD_TYPE, SIGSTORE_BUNDLE_TYPES } from '../oci/media-types';
import { findSigningKey } from '../trusted-keys/signature-check';
import type { TrustedKey } from '../trusted-keys/trusted-keys';
import { statementClaims } from './in-toto-claims';
import { parseSigstoreBundle, type BundleContent } from './sigstore-bundle';

export interface BundleCheckOptions {
  /** The scanner image digest being verified. */
  digest: string;
  /** Digest of the bundle's OCI manifest (from the descriptor that listed it). */
  manifestDigest: string;
  trustedKeys: readonly TrustedKey[];
  readLayer: (layer: Descriptor) => Promise<BlobRead | undefined>;
  /** The scanner image manifest, verified to hash to `digest`: the message a message signature signs. */
  readSubject: () => Promise<Buffer | undefined>;
}

type Problem = NonNullable<SignatureEvidence['problem']>;

function failed(manifestDigest: string, problem: Problem, keyId?: string): SignatureEvidence {
  return { kind: 'sigstore-bundle', manifestDigest, verified: false, problem, ...(keyId ? { keyId } : {}) };
}

/** Whether a manifest that refers to the image claims to carry a Sigstore bundle (OCI storage spec). */
export function isBundleManifest(manifest: ManifestView): boolean {
  if (manifest.artifactType !== undefined && SIGSTORE_BUNDLE_TYPES.includes(manifest.artifactType))
    return true;
  return (manifest.layers ?? []).some((layer) => {
    const mediaType = parseDescriptor(layer)?.mediaType;
    return mediaType !== undefined && SIGSTORE_BUNDLE_TYPES.includes(mediaType);
  });
}

/** A DSSE bundle: a trusted key signed PAE(type, payload), and the in-toto subject names the digest. */
function dsseEvidence(
  content: Extract<BundleContent, { kind: 'dsse' }>,
  options: BundleCheckOptions,
): SignatureEvidence {
  const { manifestDigest } = options;
  const pae = preAuthEncoding(content.payloadType, content.payload);
  let key: TrustedKey | undefined;
  for (const signature of content.signatures) {
    key = findSigningKey(options.trustedKeys, pae, signature);
    if (key) break;
  }
  if (!key) return failed(manifestDigest, 'untrusted_key');
  if (content.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    return failed(manifestDigest, 'malformed_manifest', key.keyId);
  const claims = statementClaims(content.payload, options.digest);
  if (claims.kind === 'malformed') return failed(manifestDigest, 'malformed_manifest', key.keyId);
  if (claims.kind === 'other-digest') return failed(manifestDigest, 'digest_mismatch', key.keyId);
  return {
    kind: 'sigstore-bundle',
    manifestDigest,
    keyId: key.keyId,
    verified: true,
    metadata: claims.metadata,
  };
}

/**
 * A message-signature bundle signs the image manifest itself. Its digest must be the image's; the
 * signature is then checked over the manifest bytes (fetched and hashed), so a bundle cannot claim
 * one digest and sign another. It carries no release metadata.
 */
async function messageEvidence(
  content: Extract<BundleContent, { kind: 'message' }>,
  options: BundleCheckOptions,
): Promise<SignatureEvidence> {
  const { manifestDigest } = options;
  if (`sha256:${content.sha256.toString('hex')}` !== options.digest)
    return failed(manifestDigest, 'digest_mismatch');
  const message = await options.readSubject();
  if (!message) return failed(manifestDigest, 'malformed_manifest');
  const key = findSigningKey(options.trustedKeys, message, content.signature);
  if (!key) return failed(manifestDigest, 'untrusted_key');
  return { kind: 'sigstore-bundle', manifestDigest, keyId: key.keyId, verified: true, metadata: {} };
}

/**
 * The evidence one Sigstore bundle manifest gives: its single layer must be the bundle, intact
 * and parsable; then the signature is checked with the trusted keys before any claim is read.
 */
export async function bundleEvidence(
  manifest: ManifestView,
  options: BundleCheckOptions,
): Promise<SignatureEvidence[]> {
  const layers = manifest.layers ?? [];
  const layer = layers.length === 1 ? parseDescriptor(layers[0]) : undefined;
  if (!layer || !SIGSTORE_BUNDLE_TYPES.includes(layer.mediaType)) {
    return [failed(options.manifestDigest, 'malformed_manifest')];
  }
  const blob = await options.readLayer(layer);
  const content = blob?.intact ? parseSigstoreBundle(blob.bytes) : undefined;
  if (!content) return [failed(options.manifestDigest, 'malformed_manifest')];
  return [content.kind === 'dsse' ? dsseEvidence(content, options) : await messageEvidence(content, options)];
}
