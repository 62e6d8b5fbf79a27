import {
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from 'jose';

export interface PoeClaims {
  license_id?: string;
  customer_id?: string;
  tenant?: string;
  installation?: string;
  plan?: string;
  active?: boolean;
  revoked?: boolean;
  valid_release_year?: number;
  max_version?: string;
  limits?: Record<string, number>;
  [claim: string]: unknown;
}

/** A stand-in for Stella Ops Licensing with a real key: mints offline PoE JWTs and publishes their JWKS. */
export class DevLicensing {
  private constructor(
    private readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
  ) {}

  static async create(kid = 'dev-licensing-1'): Promise<DevLicensing> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    return new DevLicensing(privateKey, { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' });
  }

  static async fromPrivateJwk(jwk: JWK): Promise<DevLicensing> {
    const privateKey = (await importJWK(jwk, 'ES256', { extractable: true })) as CryptoKey;
    const { d: _d, ...publicJwk } = jwk;
    return new DevLicensing(privateKey, publicJwk);
  }

  async privateJwk(): Promise<JWK> {
    return { ...(await exportJWK(this.privateKey)), kid: this.publicJwk.kid, alg: 'ES256' };
  }

  jwks(): JSONWebKeySet {
    return { keys: [this.publicJwk] };
  }

  /** A PoE valid for `lifetimeSeconds` (default one year) with the given claims over sane defaults. */
  async mintPoe(
    claims: PoeClaims = {},
    options: { now?: number; lifetimeSeconds?: number } = {},
  ): Promise<string> {
    const now = options.now ?? Math.floor(Date.now() / 1000);
    return new SignJWT({
      active: true,
      revoked: false,
      license_id: 'lic-dev-0001',
      customer_id: 'cust-dev',
      tenant: 'tenant-a',
      plan: 'pro',
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', kid: this.publicJwk.kid, typ: 'poe+jwt' })
      .setIssuer('https://licensing.stella-ops.local')
      .setIssuedAt(now)
      .setExpirationTime(now + (options.lifetimeSeconds ?? 365 * 24 * 3600))
      .sign(this.privateKey);
  }
}
