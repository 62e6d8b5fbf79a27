import { X509Certificate } from 'node:crypto';
import { BUNDLE_V03_MEDIA_TYPE, bundleToJSON, toDSSEBundle } from '@sigstore/bundle';
import {
  SignerError,
  type DsseEnvelope,
  type SignatureResult,
  type SigstoreBundleEncoder,
} from '@signer/core';

/** The media type every bundle from this encoder carries (contract §2.1). */
export const SIGSTORE_BUNDLE_MEDIA_TYPE = BUNDLE_V03_MEDIA_TYPE;

/**
 * Re-packages a signed DSSE envelope as a Sigstore bundle v0.3 with no tlog entries and no
 * timestamps (the Attestor adds the tlog entry). Verification material: the leaf certificate for
 * keyless, a public-key hint (= the key id published at `GET /keys`) for keyful signatures.
 */
export class SigstoreDsseBundleEncoder implements SigstoreBundleEncoder {
  /** The last leaf parsed: keyless signing reuses one certificate for many signatures. */
  private lastLeaf: { pem: string; der: Buffer } | undefined;

  encode(envelope: DsseEnvelope, signature: SignatureResult): Record<string, unknown> {
    assertSameSignature(envelope, signature);
    const leaf = this.leafCertificateDer(signature);
    const bundle = toDSSEBundle({
      artifact: Buffer.from(envelope.payload, 'base64'),
      artifactType: envelope.payloadType,
      signature: signature.signature,
      // With a certificate the hint only fills the DSSE `keyid`, so the bundle's envelope keeps the
      // envelope's key id (the certificate fingerprint) rather than an empty string.
      keyHint: leaf ? envelope.signatures[0].keyid : signature.identity.keyId,
      certificate: leaf,
      // false → v0.3 single `certificate` (a chain is what v0.2 carried).
      certificateChain: false,
    });
    return bundleToJSON(bundle);
  }

  private leafCertificateDer(signature: SignatureResult): Buffer | undefined {
    if (signature.certificateChain === undefined) return undefined;
    const [leafPem] = signature.certificateChain;
    if (leafPem === undefined) {
      throw new SignerError('internal_error', 'keyless signature has an empty certificate chain');
    }
    if (this.lastLeaf?.pem !== leafPem) this.lastLeaf = { pem: leafPem, der: parseLeafDer(leafPem) };
    return this.lastLeaf.der;
  }
}

// The bundle must restate the envelope, not a different signature: a mismatch is a wiring bug,
// and publishing it would hand callers two artefacts that disagree.
function assertSameSignature(envelope: DsseEnvelope, signature: SignatureResult): void {
  const [only, ...others] = envelope.signatures;
  if (!only || others.length > 0 || only.sig !== signature.signature.toString('base64')) {
    throw new SignerError(
      'internal_error',
      'DSSE envelope does not carry exactly the signature being bundled',
    );
  }
}

function parseLeafDer(leafPem: string): Buffer {
  try {
    return new X509Certificate(leafPem).raw;
  } catch (cause) {
    throw new SignerError('internal_error', 'keyless leaf certificate does not parse', { cause });
  }
}
