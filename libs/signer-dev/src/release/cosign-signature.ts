import { canonicalBytes } from '@signer/core';
import {
  COSIGN_SIGNATURE_ANNOTATION,
  COSIGN_SIGNATURE_ARTIFACT,
  COSIGN_SIGNATURE_TYPE,
  COSIGN_SIMPLE_SIGNING,
  OCI_EMPTY,
  OCI_IMAGE_MANIFEST,
} from './media-types';
import { sha256Digest, type BlobWriter, type OciDescriptor } from './oci-layout';
import { signWithReleaseKey, type ReleaseKey } from './release-keys';

/** Ways to make a signature manifest hostile or broken, for negative tests. */
export type SignatureDefect =
  | 'corrupt-manifest-blob'
  | 'corrupt-payload-blob'
  | 'invalid-json-manifest'
  | 'missing-layers'
  | 'missing-signature-annotation';

export interface SimpleSigningClaims {
  repository: string;
  digest: string;
  /** `null` leaves the key out of the `optional` map. */
  version: string | null;
  created: string | null;
}

export interface CosignSignatureOptions {
  key: ReleaseKey;
  /** The scanner image manifest the signature refers to (`subject`). */
  subject: OciDescriptor;
  claims: SimpleSigningClaims;
  defect?: SignatureDefect;
  /** Unsigned annotations on the signature manifest: verifiers must not read metadata from here. */
  unsignedAnnotations?: Record<string, string>;
}

export interface CosignSignature {
  manifest: OciDescriptor;
  payload: Buffer;
  payloadDigest: string;
  signature: Buffer;
}

/** The cosign simple-signing payload (the bytes that are signed). */
export function simpleSigningPayload(claims: SimpleSigningClaims): Buffer {
  const optional: Record<string, string> = {};
  if (claims.version !== null) optional['org.opencontainers.image.version'] = claims.version;
  if (claims.created !== null) optional['org.opencontainers.image.created'] = claims.created;
  return canonicalBytes({
    critical: {
      identity: { 'docker-reference': claims.repository },
      image: { 'docker-manifest-digest': claims.digest },
      type: COSIGN_SIGNATURE_TYPE,
    },
    optional,
  });
}

/** The OCI empty descriptor cosign uses as config of a signature manifest (image-spec 1.1). */
export function emptyConfig(layout: BlobWriter): OciDescriptor {
  return layout.putBlob(Buffer.from('{}'), OCI_EMPTY);
}

function manifestBytes(options: CosignSignatureOptions, layer: OciDescriptor, config: OciDescriptor): Buffer {
  const base = {
    schemaVersion: 2,
    mediaType: OCI_IMAGE_MANIFEST,
    artifactType: COSIGN_SIGNATURE_ARTIFACT,
    config,
    subject: options.subject,
    annotations: options.unsignedAnnotations,
  };
  switch (options.defect) {
    case 'invalid-json-manifest':
      return Buffer.from(JSON.stringify(base).slice(0, -7));
    case 'missing-layers':
      return canonicalBytes(base);
    case 'missing-signature-annotation':
      return canonicalBytes({ ...base, layers: [{ ...layer, annotations: undefined }] });
    default:
      return canonicalBytes({ ...base, layers: [layer] });
  }
}

/** One simple-signing payload blob and its layer descriptor carrying the base64 signature annotation. */
export function writeCosignLayer(
  writer: BlobWriter,
  key: ReleaseKey,
  claims: SimpleSigningClaims,
): { layer: OciDescriptor; payload: Buffer; signature: Buffer } {
  const payload = simpleSigningPayload(claims);
  const signature = signWithReleaseKey(key, payload);
  const layer: OciDescriptor = {
    ...writer.putBlob(payload, COSIGN_SIMPLE_SIGNING),
    annotations: { [COSIGN_SIGNATURE_ANNOTATION]: signature.toString('base64') },
  };
  return { layer, payload, signature };
}

/**
 * Writes one signature manifest the way cosign's OCI 1.1 referrers mode does:
 * empty config, one simple-signing layer carrying the base64 signature annotation, and the image
 * as `subject`. The manifest is listed in `index.json` by the caller (layouts expose referrers that way).
 */
export function writeCosignSignature(layout: BlobWriter, options: CosignSignatureOptions): CosignSignature {
  const { layer, payload, signature } = writeCosignLayer(layout, options.key, options.claims);
  const bytes = manifestBytes(options, layer, emptyConfig(layout));
  const manifest: OciDescriptor = {
    ...layout.putBlob(bytes, OCI_IMAGE_MANIFEST),
    artifactType: COSIGN_SIGNATURE_ARTIFACT,
  };
  if (options.defect === 'corrupt-payload-blob') {
    layout.overwriteBlob(
      layer.digest,
      simpleSigningPayload({ ...options.claims, version: '99.0.0-tampered' }),
    );
  }
  if (options.defect === 'corrupt-manifest-blob') {
    // Still valid JSON naming the same subject, so only the digest check can catch it.
    const tampered = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    layout.overwriteBlob(manifest.digest, canonicalBytes({ ...tampered, annotations: { tampered: 'true' } }));
  }
  return { manifest, payload, payloadDigest: sha256Digest(payload), signature };
}
