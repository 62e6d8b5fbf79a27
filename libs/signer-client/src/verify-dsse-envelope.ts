import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { decodeBase64Strict, pae, type DsseEnvelope } from './dsse';
import { ClientVerificationError } from './errors';

// ECDSA signatures are hashed with the digest that matches the curve's strength (RFC 5656 §6.2.1,
// as cosign and Sigstore do); Ed25519 takes no digest.
const ECDSA_DIGEST_BY_CURVE: Readonly<Record<string, string>> = {
  prime256v1: 'sha256',
  secp384r1: 'sha384',
  secp521r1: 'sha512',
};

/**
 * Verifies a DSSE envelope over PAE(payloadType, payload) with a PEM public key: `true` if one of
 * its signatures verifies (ECDSA as ASN.1 DER, Ed25519 raw), `false` for any signature or envelope
 * problem. Throws {@link ClientVerificationError} `unsupported_key` for a key it cannot use, so a
 * wrong key file is not mistaken for a bad signature.
 */
export function verifyDsseEnvelope(envelope: DsseEnvelope, publicKeyPem: string): boolean {
  const { key, digest } = verificationKey(publicKeyPem);
  if (typeof envelope?.payloadType !== 'string' || typeof envelope.payload !== 'string') return false;
  if (!Array.isArray(envelope.signatures)) return false;
  const payload = decodeBase64Strict(envelope.payload);
  if (payload === undefined) return false;
  const message = pae(envelope.payloadType, payload);
  return envelope.signatures.some((signature) => {
    const sig = typeof signature?.sig === 'string' ? decodeBase64Strict(signature.sig) : undefined;
    if (sig === undefined || sig.length === 0) return false;
    try {
      return verify(digest, message, { key, dsaEncoding: 'der' }, sig);
    } catch {
      // OpenSSL throws on some malformed DER instead of answering false.
      return false;
    }
  });
}

function verificationKey(publicKeyPem: string): { key: KeyObject; digest: string | null } {
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch (cause) {
    throw new ClientVerificationError('unsupported_key', 'public key does not parse as PEM', { cause });
  }
  if (key.asymmetricKeyType === 'ed25519') return { key, digest: null };
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const digest = key.asymmetricKeyType === 'ec' && curve ? ECDSA_DIGEST_BY_CURVE[curve] : undefined;
  if (digest === undefined) {
    throw new ClientVerificationError(
      'unsupported_key',
      `expected an ECDSA P-256/P-384/P-521 or Ed25519 key, got ${key.asymmetricKeyType ?? 'unknown'}${curve ? ` (${curve})` : ''}`,
    );
  }
  return { key, digest };
}
