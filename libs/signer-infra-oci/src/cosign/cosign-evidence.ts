import type { SignatureEvidence } from '@signer/core';
import { parseDescriptor, type Descriptor, type ManifestView } from '../oci/descriptor';
import {
  COSIGN_SIGNATURE_ANNOTATION,
  COSIGN_SIGNATURE_ARTIFACT,
  COSIGN_SIMPLE_SIGNING,
} from '../oci/media-types';
import type { LayoutBlob } from '../oci-layout/layout-store';
import { findSigningKey } from '../trusted-keys/signature-check';
import type { TrustedKey } from '../trusted-keys/trusted-keys';
import { parseSimpleSigning } from './simple-signing';

export interface CosignCheckOptions {
  /** The scanner image digest being verified. */
  digest: string;
  /** Digest of the signature manifest (from the descriptor that listed it). */
  manifestDigest: string;
  trustedKeys: readonly TrustedKey[];
  readPayload: (layer: Descriptor) => Promise<LayoutBlob | undefined>;
}

type Problem = NonNullable<SignatureEvidence['problem']>;

// Canonical base64 only: Buffer.from would silently skip junk and verify something else.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function failed(manifestDigest: string, problem: Problem, keyId?: string): SignatureEvidence {
  return { kind: 'cosign', manifestDigest, verified: false, problem, ...(keyId ? { keyId } : {}) };
}

/** Whether a manifest that refers to the image claims to be a cosign signature. */
export function isCosignManifest(manifest: ManifestView): boolean {
  if (manifest.artifactType === COSIGN_SIGNATURE_ARTIFACT) return true;
  if (manifest.configMediaType === COSIGN_SIGNATURE_ARTIFACT) return true;
  return (manifest.layers ?? []).some((layer) => parseDescriptor(layer)?.mediaType === COSIGN_SIMPLE_SIGNING);
}

/**
 * Checks one simple-signing layer: payload bytes match their digest, the signature verifies with a
 * trusted key, and only then is the payload read for the digest it names and the release metadata.
 */
async function checkLayer(raw: unknown, options: CosignCheckOptions): Promise<SignatureEvidence> {
  const { manifestDigest } = options;
  const layer = parseDescriptor(raw);
  const encoded = layer?.annotations[COSIGN_SIGNATURE_ANNOTATION];
  if (!layer || !encoded || !BASE64.test(encoded)) return failed(manifestDigest, 'malformed_manifest');
  const payload = await options.readPayload(layer);
  if (!payload?.intact) return failed(manifestDigest, 'malformed_manifest');
  const key = findSigningKey(options.trustedKeys, payload.bytes, Buffer.from(encoded, 'base64'));
  if (!key) return failed(manifestDigest, 'untrusted_key');
  const claims = parseSimpleSigning(payload.bytes);
  if (!claims) return failed(manifestDigest, 'malformed_manifest', key.keyId);
  if (claims.digest !== options.digest) return failed(manifestDigest, 'digest_mismatch', key.keyId);
  return { kind: 'cosign', manifestDigest, keyId: key.keyId, verified: true, metadata: claims.metadata };
}

/**
 * The evidence one cosign signature manifest gives: one entry per simple-signing layer (legacy
 * cosign stacks several signatures in one manifest), or one `malformed_manifest` when it has none.
 */
export async function cosignEvidence(
  manifest: ManifestView,
  options: CosignCheckOptions,
): Promise<SignatureEvidence[]> {
  const layers = (manifest.layers ?? []).filter((layer) => {
    const descriptor = parseDescriptor(layer);
    return descriptor === undefined || descriptor.mediaType === COSIGN_SIMPLE_SIGNING;
  });
  if (layers.length === 0) return [failed(options.manifestDigest, 'malformed_manifest')];
  const evidence: SignatureEvidence[] = [];
  for (const layer of layers) evidence.push(await checkLayer(layer, options));
  return evidence;
}
