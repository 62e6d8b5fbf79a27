import type { KmsAlgorithm } from '../kms/signing-algorithm';

const SUPPORTED: Readonly<Record<string, KmsAlgorithm>> = {
  EC_SIGN_P256_SHA256: 'ES256',
  EC_SIGN_P384_SHA384: 'ES384',
  RSA_SIGN_PSS_2048_SHA256: 'PS256',
  RSA_SIGN_PSS_3072_SHA256: 'PS256',
  RSA_SIGN_PSS_4096_SHA256: 'PS256',
  RSA_SIGN_PKCS1_2048_SHA256: 'RS256',
  RSA_SIGN_PKCS1_3072_SHA256: 'RS256',
  RSA_SIGN_PKCS1_4096_SHA256: 'RS256',
};

// The client decodes enums to names; the numbers cover a transport that hands back raw values.
const BY_NUMBER: Readonly<Record<number, string>> = {
  2: 'RSA_SIGN_PSS_2048_SHA256',
  3: 'RSA_SIGN_PSS_3072_SHA256',
  4: 'RSA_SIGN_PSS_4096_SHA256',
  5: 'RSA_SIGN_PKCS1_2048_SHA256',
  6: 'RSA_SIGN_PKCS1_3072_SHA256',
  7: 'RSA_SIGN_PKCS1_4096_SHA256',
  12: 'EC_SIGN_P256_SHA256',
  13: 'EC_SIGN_P384_SHA384',
};

/** Maps a CryptoKeyVersion algorithm to the Signer's algorithm, or explains why it cannot sign here. */
export function chooseGcpAlgorithm(
  reported: string | number | null | undefined,
  configured: KmsAlgorithm | undefined,
): { algorithm: KmsAlgorithm } | { problem: string } {
  const name =
    typeof reported === 'number' ? (BY_NUMBER[reported] ?? `algorithm #${reported}`) : (reported ?? 'none');
  const algorithm = SUPPORTED[name];
  if (!algorithm) {
    const signing = /_SIGN_/.test(name);
    return {
      problem: signing
        ? `unsupported signing algorithm ${name}; expected one of ${Object.keys(SUPPORTED).join(', ')}`
        : `expected an asymmetric signing key version, got ${name}`,
    };
  }
  if (configured !== undefined && configured !== algorithm) {
    return {
      problem: `configured algorithm ${configured} does not match the key version's ${name} (${algorithm})`,
    };
  }
  return { algorithm };
}
