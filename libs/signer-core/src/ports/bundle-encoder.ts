import type { DsseEnvelope, SignatureResult } from '../model';

/**
 * Encodes a signed DSSE envelope as a Sigstore bundle (v0.3). Contract: the output verifies with
 * the public Sigstore tooling given the matching trust material; it never adds tlog entries.
 */
export interface SigstoreBundleEncoder {
  encode(envelope: DsseEnvelope, signature: SignatureResult): Record<string, unknown>;
}
