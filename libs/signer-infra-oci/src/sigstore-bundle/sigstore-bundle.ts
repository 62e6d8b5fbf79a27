import { decodeBase64 } from '../oci/base64';
import { isRecord, parseJson } from '../oci/descriptor';
import { SIGSTORE_BUNDLE_TYPES } from '../oci/media-types';

/** The signed content of a Sigstore bundle v0.3, decoded; nothing in it is trusted yet. */
export type BundleContent =
  | { kind: 'dsse'; payloadType: string; payload: Buffer; signatures: Buffer[] }
  | { kind: 'message'; sha256: Buffer; signature: Buffer };

/** DSSE envelopes carry one signature in practice; more than this is not a release signature. */
const MAX_DSSE_SIGNATURES = 8;

function dsseContent(envelope: Record<string, unknown>): BundleContent | undefined {
  const payload = decodeBase64(envelope.payload);
  const { payloadType, signatures } = envelope;
  if (!payload || typeof payloadType !== 'string' || !Array.isArray(signatures)) return undefined;
  if (signatures.length === 0 || signatures.length > MAX_DSSE_SIGNATURES) return undefined;
  const decoded = signatures.map((s) => (isRecord(s) ? decodeBase64(s.sig) : undefined));
  if (!decoded.every((s): s is Buffer => s !== undefined && s.length > 0)) return undefined;
  return { kind: 'dsse', payloadType, payload, signatures: decoded };
}

function messageContent(message: Record<string, unknown>): BundleContent | undefined {
  const digest = isRecord(message.messageDigest) ? message.messageDigest : undefined;
  const sha256 = digest?.algorithm === 'SHA2_256' ? decodeBase64(digest.digest) : undefined;
  const signature = decodeBase64(message.signature);
  if (!sha256 || sha256.length !== 32 || !signature || signature.length === 0) return undefined;
  return { kind: 'message', sha256, signature };
}

/**
 * Parses a Sigstore bundle v0.3 (either media type spelling): exactly one of `dsseEnvelope` or
 * `messageSignature`, and some `verificationMaterial`. The material (public-key hint, certificate)
 * is not used for trust: a signature counts only if a configured release key verifies it.
 *
 * @see https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_bundle.proto
 */
export function parseSigstoreBundle(bytes: Buffer): BundleContent | undefined {
  const bundle = parseJson(bytes);
  if (!isRecord(bundle) || typeof bundle.mediaType !== 'string') return undefined;
  if (!SIGSTORE_BUNDLE_TYPES.includes(bundle.mediaType) || !isRecord(bundle.verificationMaterial)) {
    return undefined;
  }
  const { dsseEnvelope, messageSignature } = bundle;
  if (isRecord(dsseEnvelope) === isRecord(messageSignature)) return undefined;
  return isRecord(dsseEnvelope)
    ? dsseContent(dsseEnvelope)
    : messageContent(messageSignature as Record<string, unknown>);
}
