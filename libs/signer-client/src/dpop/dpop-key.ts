import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
// jose is an ES module: the resolution mode lets a CommonJS consumer's TypeScript read its types.
import type { CryptoKey, JWK } from 'jose' with { 'resolution-mode': 'import' };

export type DpopAlgorithm = 'ES256' | 'ES384' | 'EdDSA';

export interface DpopProofInput {
  method: string;
  /** Request URL; query and fragment are stripped (RFC 9449 §4.2). */
  url: string;
  /** The OpTok the proof accompanies (`ath`). */
  accessToken?: string;
  nonce?: string;
  /** Override `iat` (seconds); defaults to now. */
  iat?: number;
  /** Override `jti`; defaults to a random UUID. */
  jti?: string;
}

function htuOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/** A caller's DPoP key pair (RFC 9449): makes proofs and knows its RFC 7638 thumbprint (`cnf.jkt`). */
export class DpopKey {
  private constructor(
    readonly algorithm: DpopAlgorithm,
    private readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
    readonly thumbprint: string,
  ) {}

  static async generate(algorithm: DpopAlgorithm = 'ES256'): Promise<DpopKey> {
    const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true });
    return DpopKey.fromKeys(algorithm, privateKey, await exportJWK(publicKey));
  }

  /** Restores a key from its private JWK (as saved by {@link toPrivateJwk}). */
  static async fromPrivateJwk(jwk: JWK & { alg?: string }): Promise<DpopKey> {
    const algorithm = (jwk.alg ?? 'ES256') as DpopAlgorithm;
    const privateKey = (await importJWK(jwk, algorithm, { extractable: true })) as CryptoKey;
    const { d: _d, ...publicJwk } = jwk;
    delete publicJwk.alg;
    return DpopKey.fromKeys(algorithm, privateKey, publicJwk);
  }

  private static async fromKeys(
    algorithm: DpopAlgorithm,
    privateKey: CryptoKey,
    publicJwk: JWK,
  ): Promise<DpopKey> {
    const { kty, crv, x, y } = publicJwk;
    const clean: JWK = y === undefined ? { kty, crv, x } : { kty, crv, x, y };
    return new DpopKey(algorithm, privateKey, clean, await calculateJwkThumbprint(clean, 'sha256'));
  }

  async toPrivateJwk(): Promise<JWK> {
    return { ...(await exportJWK(this.privateKey)), alg: this.algorithm };
  }

  /** A signed proof for one request. */
  async proof(input: DpopProofInput): Promise<string> {
    const claims: Record<string, unknown> = {
      htm: input.method.toUpperCase(),
      htu: htuOf(input.url),
      jti: input.jti ?? randomUUID(),
      iat: input.iat ?? Math.floor(Date.now() / 1000),
    };
    if (input.accessToken) claims['ath'] = createHash('sha256').update(input.accessToken).digest('base64url');
    if (input.nonce) claims['nonce'] = input.nonce;
    return new SignJWT(claims)
      .setProtectedHeader({ typ: 'dpop+jwt', alg: this.algorithm, jwk: this.publicJwk })
      .sign(this.privateKey);
  }
}
