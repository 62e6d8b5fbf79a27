import { generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

export const TEST_OIDC_ISSUER = 'https://oidc.stella-ops.test';
/** The audience Fulcio requires in identity tokens. */
export const FULCIO_AUDIENCE = 'sigstore';

export interface IdentityTokenClaims {
  subject?: string;
  email?: string;
  emailVerified?: boolean;
  audience?: string;
  /** Epoch seconds used as "now" for iat/exp. */
  now?: number;
  lifetimeSeconds?: number;
}

/**
 * An OIDC provider for the Signer's own workload identity in tests: real ES256 tokens, and the
 * verification Fulcio performs (signature, issuer, audience, expiry) for the fake Fulcio to use.
 */
export class TestOidcIssuer {
  private constructor(
    readonly issuer: string,
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
  ) {}

  static async create(issuer = TEST_OIDC_ISSUER): Promise<TestOidcIssuer> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    return new TestOidcIssuer(issuer, privateKey, publicKey);
  }

  mint(claims: IdentityTokenClaims = {}): Promise<string> {
    const now = claims.now ?? Math.floor(Date.now() / 1000);
    const payload: JWTPayload = {};
    if (claims.email !== undefined) {
      payload['email'] = claims.email;
      payload['email_verified'] = claims.emailVerified ?? true;
    }
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', kid: 'oidc-test-1' })
      .setIssuer(this.issuer)
      .setSubject(claims.subject ?? 'https://signer.stella-ops.test/workload/signer')
      .setAudience(claims.audience ?? FULCIO_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + (claims.lifetimeSeconds ?? 600))
      .sign(this.privateKey);
  }

  /** Fulcio's token check; rejects on any failure. `nowSeconds` pins the clock. */
  async verify(token: string, nowSeconds?: number): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, this.publicKey, {
      issuer: this.issuer,
      audience: FULCIO_AUDIENCE,
      algorithms: ['ES256'],
      ...(nowSeconds === undefined ? {} : { currentDate: new Date(nowSeconds * 1000) }),
    });
    return payload;
  }
}
