// DPoP proofs (RFC 9449) made synchronously with node:crypto, so the load generator can build them
// before the timed window (a pool) or inside autocannon's synchronous `setupRequest` (fallback).
// The same wire shape as libs/signer-client DpopKey: header typ/alg/jwk, claims htm/htu/jti/iat/ath/nonce.
import { createHash, createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';

const b64url = (value) => Buffer.from(value).toString('base64url');

/** A fresh P-256 DPoP key: the private JWK (to hand to another process) and its RFC 7638 thumbprint. */
export function generateDpopKey() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'jwk' });
}

/** RFC 7638: SHA-256 over the required members in lexicographic order. */
export function jwkThumbprint({ crv, kty, x, y }) {
  return createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
}

/**
 * A proof factory bound to one key, token, URL and nonce. `proof(iat)` returns a compact JWS with
 * a fresh random `jti`; the header and `ath` are encoded once.
 */
export function dpopProofFactory({ privateJwk, accessToken, method, url, nonce }) {
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
