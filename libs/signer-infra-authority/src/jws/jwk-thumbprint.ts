import { createHash } from 'node:crypto';

/** The members RFC 7638 §3.2 hashes, per key type, in lexicographic order. */
const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

/**
 * RFC 7638 JWK SHA-256 thumbprint, base64url, computed synchronously with node:crypto (the
 * WebCrypto digest jose uses costs an async job per request on the hot path). Null when the
 * JWK lacks a required member or has an unknown key type.
 */
export function jwkThumbprint(jwk: Record<string, unknown>): string | null {
  const members = typeof jwk['kty'] === 'string' ? REQUIRED[jwk['kty']] : undefined;
  if (!members) return null;
  const parts: string[] = [];
  for (const name of members) {
    const value = jwk[name];
    if (typeof value !== 'string' || value.length === 0) return null;
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
  }
  return createHash('sha256')
    .update(`{${parts.join(',')}}`)
    .digest('base64url');
}
