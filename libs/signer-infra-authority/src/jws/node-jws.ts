import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';

/** How each allowed JWS algorithm maps onto node:crypto, and which keys may use it. */
const ALGORITHMS: Readonly<
  Record<string, { hash: string | null; kty: string; crv?: string; signatureBytes?: number; pss?: boolean }>
> = {
  ES256: { hash: 'sha256', kty: 'EC', crv: 'P-256', signatureBytes: 64 },
  ES384: { hash: 'sha384', kty: 'EC', crv: 'P-384', signatureBytes: 96 },
  EdDSA: { hash: null, kty: 'OKP', crv: 'Ed25519', signatureBytes: 64 },
  Ed25519: { hash: null, kty: 'OKP', crv: 'Ed25519', signatureBytes: 64 },
  PS256: { hash: 'sha256', kty: 'RSA', pss: true },
};
const MIN_RSA_BITS = 2048;

/** Imports a public JWK for `alg`, refusing a key whose type or curve does not fit the algorithm. */
export function importPublicJwk(jwk: Record<string, unknown>, alg: string): KeyObject {
  const spec = ALGORITHMS[alg];
  if (!spec) throw new Error(`unsupported alg ${alg}`);
  if (jwk['kty'] !== spec.kty || (spec.crv !== undefined && jwk['crv'] !== spec.crv)) {
    throw new Error(`expected a ${spec.kty} ${spec.crv ?? ''} key for ${alg}`);
  }
  const { kty, crv, x, y, n, e } = jwk;
  const key = createPublicKey({ key: { kty, crv, x, y, n, e } as never, format: 'jwk' });
  if (spec.kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new Error(`expected an RSA key of at least ${MIN_RSA_BITS} bits`);
  }
  return key;
}

/**
 * Verifies a JWS signature (RFC 7515) over its signing input (`header.payload` as ASCII bytes),
 * synchronously with node:crypto. ECDSA JWS signatures are the raw r‖s form (RFC 7518 §3.4), so
 * they are checked with `ieee-p1363`.
 */
export function verifyJwsSignature(
  signingInput: Buffer,
  signature: Buffer,
  key: KeyObject,
  alg: string,
): boolean {
  const spec = ALGORITHMS[alg];
  if (!spec) return false;
  if (spec.signatureBytes !== undefined && signature.length !== spec.signatureBytes) return false;
  if (spec.kty === 'EC')
    return verify(spec.hash, signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
  if (spec.pss) {
    return verify(
      spec.hash,
      signingInput,
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
      signature,
    );
  }
  return verify(spec.hash, signingInput, key, signature);
}
