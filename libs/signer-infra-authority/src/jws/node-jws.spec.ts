import type { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { jwkThumbprint } from './jwk-thumbprint';
import { parseCompactJws } from './compact-jws';
import { importPublicJwk, verifyJwsSignature } from './node-jws';

/** Verifies a compact JWS the way the DPoP verifier does: parsed once, then its signature checked. */
function verifyCompactJws(compact: string, key: KeyObject, alg: string): boolean {
  const jws = parseCompactJws(compact);
  return jws !== null && verifyJwsSignature(jws.signingInput, jws.signature, key, alg);
}

const ALGS = ['ES256', 'ES384', 'EdDSA', 'PS256'] as const;

describe('node:crypto JWS fast path', () => {
  describe.each(ALGS)('when jose signs with %s', (alg) => {
    let jwk: JWK;
    let jws: string;

    beforeAll(async () => {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      jwk = await exportJWK(publicKey);
      jws = await new SignJWT({ htm: 'POST', jti: 'abc' })
        .setProtectedHeader({ alg, typ: 'dpop+jwt' })
        .sign(privateKey);
    });

    it('computes the same RFC 7638 thumbprint as jose', async () => {
      expect(jwkThumbprint(jwk as Record<string, unknown>)).toBe(await calculateJwkThumbprint(jwk, 'sha256'));
    });
    it('verifies the signature jose made', () => {
      expect(verifyCompactJws(jws, importPublicJwk(jwk as Record<string, unknown>, alg), alg)).toBe(true);
    });
    it('refuses a tampered payload or signature', () => {
      const key = importPublicJwk(jwk as Record<string, unknown>, alg);
      const [h, p, s] = jws.split('.');
      const otherPayload = Buffer.from(JSON.stringify({ htm: 'GET', jti: 'abc' })).toString('base64url');
      expect(verifyCompactJws(`${h}.${otherPayload}.${s}`, key, alg)).toBe(false);
      const flipped = Buffer.from(s, 'base64url');
      flipped[5] ^= 1;
      expect(verifyCompactJws(`${h}.${p}.${flipped.toString('base64url')}`, key, alg)).toBe(false);
    });
  });

  describe('when the key does not fit the algorithm', () => {
    it('refuses to import it', async () => {
      const { publicKey } = await generateKeyPair('ES384');
      const jwk = (await exportJWK(publicKey)) as Record<string, unknown>;
      expect(() => importPublicJwk(jwk, 'ES256')).toThrow(/P-256/);
    });
    it('has no thumbprint for an unknown key type or missing member', () => {
      expect(jwkThumbprint({ kty: 'oct', k: 'abc' })).toBeNull();
      expect(jwkThumbprint({ kty: 'EC', crv: 'P-256', x: 'a' })).toBeNull();
    });
  });
});
