import { createHash } from 'node:crypto';
import { bundleToJSON, toDSSEBundle, toMessageSignatureBundle } from '@sigstore/bundle';
import { canonicalBytes, preAuthEncoding } from '@signer/core';
import { emptyConfig, type SimpleSigningClaims } from './cosign-signature';
import {
  COSIGN_SIGN_PREDICATE,
  IN_TOTO_PAYLOAD_TYPE,
  OCI_IMAGE_MANIFEST,
  OCI_TITLE,
  SIGSTORE_BUNDLE_V03,
} from './media-types';
import type { BlobWriter, OciDescriptor } from './oci-layout';
import { signWithReleaseKey, type ReleaseKey } from './release-keys';

export interface BundleSignatureOptions {
  key: ReleaseKey;
  /** The scanner image manifest (`subject` of the bundle manifest). */
  subject: OciDescriptor;
  /** The image manifest bytes: what a message signature signs. */
  subjectBytes: Buffer;
  /** What the statement names; `digest` other than the subject's makes a signature over another image. */
  claims: SimpleSigningClaims;
  /** `dsse` (cosign v3 shape: in-toto Statement in a DSSE envelope) or `message` (signature over the manifest). */
  content?: 'dsse' | 'message';
  /** The bundle media type spelling, for the bundle, the artifact type and the layer. */
  mediaType?: string;
  /** `verificationMaterial.publicKey.hint`. */
  keyHint?: string;
}

/** The in-toto Statement cosign v3 signs for an image, release metadata in the subject's annotations. */
function releaseStatement(claims: SimpleSigningClaims): Buffer {
  const annotations: Record<string, string> = {};
  if (claims.version !== null) annotations['org.opencontainers.image.version'] = claims.version;
  if (claims.created !== null) annotations['org.opencontainers.image.created'] = claims.created;
  return canonicalBytes({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [
      { name: claims.repository, digest: { sha256: claims.digest.slice('sha256:'.length) }, annotations },
    ],
    predicateType: COSIGN_SIGN_PREDICATE,
    predicate: {},
  });
}

/** A Sigstore bundle v0.3 with a public-key hint, built with `@sigstore/bundle` and a real signature. */
export function sigstoreBundle(options: BundleSignatureOptions): Record<string, unknown> {
  const keyHint = options.keyHint ?? 'stella-ops-release';
  let bundle: Record<string, unknown>;
  if ((options.content ?? 'dsse') === 'dsse') {
    const payload = releaseStatement(options.claims);
    const signature = signWithReleaseKey(options.key, preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload));
    bundle = bundleToJSON(
      toDSSEBundle({ artifact: payload, artifactType: IN_TOTO_PAYLOAD_TYPE, signature, keyHint }),
    ) as unknown as Record<string, unknown>;
  } else {
    // Lying about the digest needs a message that really hashes to it: sign other bytes.
    const message =
      options.claims.digest === options.subject.digest ? options.subjectBytes : Buffer.from('another image');
    const signature = signWithReleaseKey(options.key, message);
    const digest = createHash('sha256').update(message).digest();
    bundle = bundleToJSON(toMessageSignatureBundle({ digest, signature, keyHint })) as unknown as Record<
      string,
      unknown
    >;
  }
  return { ...bundle, mediaType: options.mediaType ?? SIGSTORE_BUNDLE_V03 };
}

/**
 * Stores a bundle the way cosign's bundle spec says: the JSON as the single layer of an OCI
 * manifest whose `artifactType` is the bundle media type, empty config, the image as `subject`.
 *
 * @see https://github.com/sigstore/cosign/blob/main/specs/BUNDLE_SPEC.md
 */
export function writeSigstoreBundleSignature(
  writer: BlobWriter,
  options: BundleSignatureOptions,
): { manifest: OciDescriptor; bundle: Record<string, unknown> } {
  const mediaType = options.mediaType ?? SIGSTORE_BUNDLE_V03;
  const bundle = sigstoreBundle(options);
  const blob = writer.putJson(bundle, mediaType);
  const layer = { ...blob, annotations: { [OCI_TITLE]: `${blob.digest.replace(':', '-')}.sigstore.json` } };
  const content = (options.content ?? 'dsse') === 'dsse' ? 'dsse-envelope' : 'message-signature';
  const manifest = writer.putJson(
    {
      schemaVersion: 2,
      mediaType: OCI_IMAGE_MANIFEST,
      artifactType: mediaType,
      config: emptyConfig(writer),
      layers: [layer],
      subject: options.subject,
      annotations: { 'dev.sigstore.bundle.content': content },
    },
    OCI_IMAGE_MANIFEST,
  );
  return { manifest: { ...manifest, artifactType: mediaType }, bundle };
}
