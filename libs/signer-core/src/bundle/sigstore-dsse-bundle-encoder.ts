import { X509Certificate } from 'node:crypto';
import { SignerError } from '../errors';
import type { DsseEnvelope, DsseSignature, SignatureResult } from '../model';
import type { SigstoreBundleEncoder } from '../ports/bundle-encoder';

/**
 * The media type every bundle from this encoder carries (contract §2.1); @sigstore/bundle's
 * `BUNDLE_V03_MEDIA_TYPE`, spelled out because the core imports no SDK.
 */
export const SIGSTORE_BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/**
 * Re-packages a signed DSSE envelope as a Sigstore bundle v0.3 with no tlog entries and no
 * timestamps (the Attestor adds the tlog entry). Verification material: the leaf certificate for
 * keyless, a public-key hint (= the key id published at `GET /keys`) for keyful signatures.
 *
 * A pure JSON writer, so it lives with the DSSE envelope it restates rather than with any signing
 * backend. The JSON is written directly, in exactly the form `bundleToJSON(toDSSEBundle(…))` from
 * `@sigstore/bundle` gives (protobuf JSON: empty `tlogEntries` omitted, empty
 * `timestampVerificationData`, empty strings omitted) — the library's output is the oracle in
 * libs/signer-infra-kms/test/sigstore-bundle-oracle.spec.ts (the core's own specs import no SDK).
 * The library's round trip decodes the base64 payload and encodes it again for every signature;
 * the envelope already carries both in base64.
 */
export class SigstoreDsseBundleEncoder implements SigstoreBundleEncoder {
  /** The last leaf parsed: keyless signing reuses one certificate for many signatures. */
  private lastLeaf: { pem: string; rawBytes: string } | undefined;

  encode(envelope: DsseEnvelope, signature: SignatureResult): Record<string, unknown> {
    const sig = assertSameSignature(envelope, signature);
    const rawBytes = this.leafCertificateBase64(signature);
    // With a certificate the hint only fills the DSSE `keyid`, so the bundle's envelope keeps the
    // envelope's key id (the certificate fingerprint) rather than an empty string.
    const keyid = rawBytes ? sig.keyid : signature.identity.keyId;
    return {
      mediaType: SIGSTORE_BUNDLE_MEDIA_TYPE,
      verificationMaterial: {
        // v0.3 carries a single `certificate` (a chain is what v0.2 carried).
        ...(rawBytes ? { certificate: { rawBytes } } : { publicKey: keyid ? { hint: keyid } : {} }),
        timestampVerificationData: {},
      },
      dsseEnvelope: {
        payload: envelope.payload,
        payloadType: envelope.payloadType,
        signatures: [keyid ? { sig: sig.sig, keyid } : { sig: sig.sig }],
      },
    };
  }

  private leafCertificateBase64(signature: SignatureResult): string | undefined {
    if (signature.certificateChain === undefined) return undefined;
    const [leafPem] = signature.certificateChain;
    if (leafPem === undefined) {
      throw new SignerError('internal_error', 'keyless signature has an empty certificate chain');
    }
    if (this.lastLeaf?.pem !== leafPem) {
      this.lastLeaf = { pem: leafPem, rawBytes: parseLeafDer(leafPem).toString('base64') };
    }
    return this.lastLeaf.rawBytes;
  }
}

// The bundle must restate the envelope, not a different signature: a mismatch is a wiring bug,
// and publishing it would hand callers two artefacts that disagree.
function assertSameSignature(envelope: DsseEnvelope, signature: SignatureResult): DsseSignature {
  const [only, ...others] = envelope.signatures;
  if (!only || others.length > 0 || only.sig !== signature.signature.toString('base64')) {
    throw new SignerError(
      'internal_error',
      'DSSE envelope does not carry exactly the signature being bundled',
    );
  }
  return only;
}

function parseLeafDer(leafPem: string): Buffer {
  try {
    return new X509Certificate(leafPem).raw;
  } catch (cause) {
    throw new SignerError('internal_error', 'keyless leaf certificate does not parse', { cause });
  }
}
