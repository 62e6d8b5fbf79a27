// DPoP proofs (RFC 9449) made synchronously with node:crypto, so the load generator can build them
// before the timed window (a pool) or inside autocannon's synchronous `setupRequest` (fallback).
// @signer/client's DpopKey is asynchronous (WebCrypto); this makes the same wire shape: header
// typ/alg/jwk, claims htm/htu/jti/iat/ath/nonce.
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  type JsonWebKey,
} from 'node:crypto';

/** A P-256 key as a JWK: the private one travels to the load and floor processes over IPC. */
export interface EcJwk extends JsonWebKey {
  kty: string;
  crv: string;
  x: string;
  y: string;
}

/** What a DPoP-bound caller needs to make proofs for one route. */
export interface DpopCaller {
  privateJwk: EcJwk;
  accessToken: string;
  method: string;
  url: string;
  nonce?: string;
}

export interface DpopProofFactory {
  thumbprint: string;
  proof(iat?: number): string;
}

const b64url = (value: string) => Buffer.from(value).toString('base64url');

/** A fresh P-256 DPoP key: the private JWK (to hand to another process). */
export function generateDpopKey(): EcJwk {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const { kty, crv, x, y } = jwk;
  if (!kty || !crv || !x || !y) throw new Error('expected a P-256 JWK, got an incomplete one');
  return { ...jwk, kty, crv, x, y };
}

/** RFC 7638: SHA-256 over the required members in lexicographic order. */
export function jwkThumbprint({ crv, kty, x, y }: EcJwk): string {
  return createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
}

/**
 * A proof factory bound to one key, token, URL and nonce. `proof(iat)` returns a compact JWS with
 * a fresh random `jti`; the header and `ath` are encoded once.
 */
export function dpopProofFactory({
  privateJwk,
  accessToken,
  method,
  url,
  nonce,
}: DpopCaller): DpopProofFactory {
  const key = createPrivateKey({ key: privateJwk, format: 'jwk' });
  const { kty, crv, x, y } = privateJwk;
  const header = b64url(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } }));
  const ath = createHash('sha256').update(accessToken).digest('base64url');
  const htu = new URL(url);
  const base = {
    htm: method,
    htu: `${htu.protocol}//${htu.host}${htu.pathname}`,
    ath,
    ...(nonce ? { nonce } : {}),
  };
  return {
    thumbprint: jwkThumbprint(privateJwk),
    proof(iat = Math.floor(Date.now() / 1000)) {
      const input = `${header}.${b64url(JSON.stringify({ ...base, jti: randomUUID(), iat }))}`;
      const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
      return `${input}.${signature.toString('base64url')}`;
    },
  };
}
