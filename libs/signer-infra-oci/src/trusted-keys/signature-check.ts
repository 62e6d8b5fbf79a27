import { verify } from 'node:crypto';
import type { TrustedKey, TrustedKeyAlgorithm } from './trusted-keys';

/**
 * Digests tried per algorithm. P-384 also accepts SHA-256 because cosign before the sigstore
 * algorithm registry signed with SHA-256 whatever the curve; both are collision resistant, so
 * accepting either does not let a signature over one payload pass for another.
 */
const DIGESTS: Record<TrustedKeyAlgorithm, readonly (string | null)[]> = {
  'ecdsa-p256-sha256': ['sha256'],
  'ecdsa-p384-sha384': ['sha384', 'sha256'],
  // Ed25519 signs the message itself (pure EdDSA), as cosign does.
  ed25519: [null],
  'rsa-pkcs1v15-sha256': ['sha256'],
};

function verifies(key: TrustedKey, payload: Buffer, signature: Buffer): boolean {
  return DIGESTS[key.algorithm].some((digest) => {
    try {
      // ECDSA signatures are ASN.1 DER (node's default dsaEncoding), as cosign writes them.
      return verify(digest, payload, key.publicKey, signature);
    } catch {
      // A malformed signature can make OpenSSL throw instead of answering false.
      return false;
    }
  });
}

/** The first trusted key whose signature over `payload` this is, or `undefined`. */
export function findSigningKey(
  keys: readonly TrustedKey[],
  payload: Buffer,
  signature: Buffer,
): TrustedKey | undefined {
  return keys.find((key) => verifies(key, payload, signature));
}
