import { constants, createPublicKey, verify } from 'node:crypto';

/**
 * Verifies a KMS signature over `data` with the published PEM, written from the algorithm
 * definitions with node:crypto only (not the signer's own `verifiesWith`).
 */
export function independentlyVerifies(
  algorithm: string,
  publicKeyPem: string,
  data: Buffer,
  signature: Buffer,
): boolean {
  const key = createPublicKey(publicKeyPem);
  switch (algorithm) {
    case 'ES256':
      return verify('sha256', data, { key, dsaEncoding: 'der' }, signature);
    case 'ES384':
      return verify('sha384', data, { key, dsaEncoding: 'der' }, signature);
    case 'PS256':
      return verify(
        'sha256',
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        signature,
      );
    case 'RS256':
      return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    default:
      throw new Error(`unexpected algorithm ${algorithm}`);
  }
}

export async function refusalOf(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; upstream?: string; retryAfterSeconds?: number }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a refusal');
}
