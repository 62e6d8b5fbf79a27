import { constants, hash, verify, type KeyObject } from 'node:crypto';

/**
 * Algorithms a cloud KMS key may sign with (JOSE names, as published at `GET /keys`). ECDSA
 * signatures are ASN.1 DER; RSASSA-PSS uses MGF1 with the same hash and a salt as long as the
 * digest (what AWS KMS and Cloud KMS produce); RS256 is RSASSA-PKCS1-v1_5 with SHA-256.
 */
export type KmsAlgorithm = 'ES256' | 'ES384' | 'PS256' | 'RS256';

export type DigestName = 'sha256' | 'sha384';

export function digestOf(algorithm: KmsAlgorithm): DigestName {
  return algorithm === 'ES384' ? 'sha384' : 'sha256';
}

/** The digest a KMS `Sign` with a DIGEST message type signs for `data`. */
export function digestFor(algorithm: KmsAlgorithm, data: Buffer): Buffer {
  return hash(digestOf(algorithm), data, 'buffer');
}

/** Verifies `signature` over `data` exactly as a DSSE verifier holding the published key would. */
export function verifiesWith(
  algorithm: KmsAlgorithm,
  publicKey: KeyObject,
  data: Buffer,
  signature: Buffer,
): boolean {
  const hash = digestOf(algorithm);
  try {
    switch (algorithm) {
      case 'ES256':
      case 'ES384':
        return verify(hash, data, { key: publicKey, dsaEncoding: 'der' }, signature);
      case 'PS256':
        return verify(
          hash,
          data,
          {
            key: publicKey,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
          },
          signature,
        );
      case 'RS256':
        return verify(hash, data, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
    }
  } catch {
    // A malformed signature (bad DER, wrong length) is "does not verify", not a crash.
    return false;
  }
}

/**
 * Describes why `publicKey` cannot carry `algorithm`, or returns undefined when it can: the curve
 * must match the ECDSA variant; RSA keys must be at least 2048 bits.
 */
export function keyMismatch(algorithm: KmsAlgorithm, publicKey: KeyObject): string | undefined {
  const type = publicKey.asymmetricKeyType;
  const curve = publicKey.asymmetricKeyDetails?.namedCurve;
  const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  const expectedCurve =
    algorithm === 'ES256' ? 'prime256v1' : algorithm === 'ES384' ? 'secp384r1' : undefined;
  if (expectedCurve) {
    return type === 'ec' && curve === expectedCurve
      ? undefined
      : `expected an EC ${expectedCurve} public key for ${algorithm}, got ${type ?? 'unknown'}${curve ? ` (${curve})` : ''}`;
  }
  return type === 'rsa' && bits >= 2048
    ? undefined
    : `expected an RSA public key of at least 2048 bits for ${algorithm}, got ${type ?? 'unknown'}${bits ? ` (${bits} bits)` : ''}`;
}
