import type { SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import type { KmsAlgorithm } from '../kms/signing-algorithm';

/** AWS `SigningAlgorithm` for each algorithm this Signer uses (always with `MessageType: DIGEST`). */
export const AWS_SIGNING_ALGORITHM: Readonly<Record<KmsAlgorithm, SigningAlgorithmSpec>> = {
  ES256: 'ECDSA_SHA_256',
  ES384: 'ECDSA_SHA_384',
  PS256: 'RSASSA_PSS_SHA_256',
  RS256: 'RSASSA_PKCS1_V1_5_SHA_256',
};

// ECC keys admit exactly one algorithm; RSA keys admit both paddings, so the operator must say
// which one verifiers expect (`signing.keys.<id>.algorithm`) — there is no silent default.
const BY_KEY_SPEC: Readonly<Record<string, readonly KmsAlgorithm[]>> = {
  ECC_NIST_P256: ['ES256'],
  ECC_NIST_P384: ['ES384'],
  RSA_2048: ['PS256', 'RS256'],
  RSA_3072: ['PS256', 'RS256'],
  RSA_4096: ['PS256', 'RS256'],
};

/**
 * Picks the algorithm for an AWS key, or explains why the key cannot be used: not a signing key,
 * an unsupported spec, a configured algorithm the key does not allow, or an RSA key with none.
 */
export function chooseAwsAlgorithm(
  keySpec: string | undefined,
  keyUsage: string | undefined,
  keyAllows: readonly string[],
  configured: KmsAlgorithm | undefined,
): { algorithm: KmsAlgorithm } | { problem: string } {
  if (keyUsage !== 'SIGN_VERIFY')
    return { problem: `expected KeyUsage SIGN_VERIFY, got ${keyUsage ?? 'none'}` };
  const candidates = BY_KEY_SPEC[keySpec ?? ''];
  if (!candidates) {
    return {
      problem: `unsupported KeySpec ${keySpec ?? 'none'}; expected ${Object.keys(BY_KEY_SPEC).join(', ')}`,
    };
  }
  if (configured !== undefined && !candidates.includes(configured)) {
    return {
      problem: `configured algorithm ${configured} does not match KeySpec ${keySpec} (${candidates.join(' or ')})`,
    };
  }
  if (configured === undefined && candidates.length > 1) {
    return { problem: `KeySpec ${keySpec} needs an explicit algorithm: ${candidates.join(' or ')}` };
  }
  const algorithm = configured ?? candidates[0];
  if (!keyAllows.includes(AWS_SIGNING_ALGORITHM[algorithm])) {
    return {
      problem: `the key does not allow ${AWS_SIGNING_ALGORITHM[algorithm]} (allows ${keyAllows.join(', ') || 'none'})`,
    };
  }
  return { algorithm };
}
