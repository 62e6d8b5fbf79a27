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
/**
 * RSA keys a caller may bring: below 2048 bits is breakable; above 4096 bits, and any exponent but
 * 65537, only buys the caller a more expensive verification on our CPU (a 1 MiB exponent made one
 * verify cost milliseconds). Real clients use e = 65537 and 2048–4096-bit moduli.
 */
export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 4096;
/** 65537 in base64url, the only public exponent accepted (RFC 7518 §6.3.1.2 encoding, no leading zeros). */
export const RSA_PUBLIC_EXPONENT = 'AQAB';

/** A JWK the Signer refuses to use; the message is constant text, safe for an operator log. */
export class UnacceptableKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnacceptableKeyError';
  }
}

/** Imports a public JWK for `alg`, refusing a key whose type or curve does not fit the algorithm. */
export function importPublicJwk(jwk: Record<string, unknown>, alg: string): KeyObject {
  const spec = ALGORITHMS[alg];
  if (!spec) throw new UnacceptableKeyError(`unsupported alg ${alg}`);
  if (jwk['kty'] !== spec.kty || (spec.crv !== undefined && jwk['crv'] !== spec.crv)) {
    throw new UnacceptableKeyError(`expected a ${spec.kty} ${spec.crv ?? ''} key for ${alg}`);
  }
  if (spec.kty === 'RSA') checkRsaBounds(jwk);
  const { kty, crv, x, y, n, e } = jwk;
  return createPublicKey({ key: { kty, crv, x, y, n, e } as never, format: 'jwk' });
}

/** Checks `e` and the size of `n` on the JWK text, before any big-number work. */
function checkRsaBounds(jwk: Record<string, unknown>): void {
  if (jwk['e'] !== RSA_PUBLIC_EXPONENT)
    throw new UnacceptableKeyError('expected the RSA public exponent 65537 (AQAB), got another exponent');
  const n = jwk['n'];
  const bits = typeof n === 'string' ? modulusBits(n) : 0;
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
    throw new UnacceptableKeyError(
      `expected an RSA modulus of ${MIN_RSA_BITS}..${MAX_RSA_BITS} bits, got ${bits || 'an unreadable one'}`,
    );
  }
}

/** Bit length of a base64url unsigned integer without leading zero octets, or 0 when it is not one. */
function modulusBits(value: string): number {
  // 4096 bits = 512 octets = 683 characters: longer text is refused before it is decoded.
  if (value.length === 0 || value.length > Math.ceil((MAX_RSA_BITS / 8) * (4 / 3)) + 1) return 0;
  const octets = Buffer.from(value, 'base64url');
  if (octets.length === 0 || octets[0] === 0 || octets.toString('base64url') !== value) return 0;
  return (octets.length - 1) * 8 + (32 - Math.clz32(octets[0]));
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
