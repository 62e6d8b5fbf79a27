import { randomUUID } from 'node:crypto';
import {
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from 'jose';

export const DEV_ISSUER = 'https://authority.stella-ops.local';
export const DEV_AUDIENCE = 'signer';

export interface OpTokClaims {
  tenant?: string;
  installation?: string;
  subject?: string;
  clientId?: string;
  scope?: string;
  /** DPoP binding: the caller key's thumbprint. */
  jkt?: string;
  /** mTLS binding: the client certificate's SHA-256 thumbprint. */
  x5tS256?: string;
  issuer?: string;
  audience?: string | string[];
  lifetimeSeconds?: number;
  /** Epoch seconds to use as "now" for iat/nbf/exp. */
  now?: number;
  notBefore?: number;
  extra?: Record<string, unknown>;
  alg?: string;
  kid?: string;
}

/**
 * A stand-in for the Stella Ops Authority with a real signing key: it publishes a JWKS and mints
 * OpToks exactly as the Authority does (ES256, `kid`, `cnf`), so tests exercise real verification.
 */
export class DevAuthority {
  private constructor(
    private readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
    readonly kid: string,
  ) {}

  static async create(kid = 'dev-authority-1'): Promise<DevAuthority> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    return new DevAuthority(
      privateKey,
      { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
      kid,
    );
  }

  static async fromPrivateJwk(jwk: JWK): Promise<DevAuthority> {
    const privateKey = (await importJWK(jwk, 'ES256', { extractable: true })) as CryptoKey;
    const { d: _d, ...publicJwk } = jwk;
    return new DevAuthority(privateKey, publicJwk, jwk.kid ?? 'dev-authority-1');
  }

  async privateJwk(): Promise<JWK> {
    return { ...(await exportJWK(this.privateKey)), kid: this.kid, alg: 'ES256' };
  }

  jwks(): JSONWebKeySet {
    return { keys: [this.publicJwk] };
  }

  async mint(claims: OpTokClaims = {}): Promise<string> {
    const now = claims.now ?? Math.floor(Date.now() / 1000);
    const cnf: Record<string, string> = {};
    if (claims.jkt) cnf['jkt'] = claims.jkt;
    if (claims.x5tS256) cnf['x5t#S256'] = claims.x5tS256;
    const payload: Record<string, unknown> = {
      tid: claims.tenant ?? 'tenant-a',
      scope: claims.scope ?? 'signer.sign',
      client_id: claims.clientId ?? 'scanner-web',
      ...(claims.installation ? { inst: claims.installation } : {}),
      ...(Object.keys(cnf).length > 0 ? { cnf } : {}),
      ...claims.extra,
    };
    const jwt = new SignJWT(payload)
      .setProtectedHeader({ alg: claims.alg ?? 'ES256', kid: claims.kid ?? this.kid, typ: 'at+jwt' })
      .setIssuer(claims.issuer ?? DEV_ISSUER)
      .setAudience(claims.audience ?? DEV_AUDIENCE)
      .setSubject(claims.subject ?? 'svc-scanner-web')
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + (claims.lifetimeSeconds ?? 300));
    if (claims.notBefore !== undefined) jwt.setNotBefore(claims.notBefore);
    return jwt.sign(this.privateKey);
  }
}
