import { createHash } from 'node:crypto';
import {
  hasControlCharacters,
  SignerError,
  type Clock,
  type TokenVerifier,
  type VerifiedOpTok,
} from '@signer/core';
import { jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { isCanonicalCompactJws } from '../jws/compact-jws';
import { describeJoseError } from './jose-errors';

/** Asymmetric JWS algorithms the Signer can ever accept; `none` and HMAC are never in this list. */
export const ASYMMETRIC_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
] as const;
/**
 * Longest OpTok lifetime accepted (`exp − iat`). Authority access tokens live minutes to an hour;
 * a day is far above any real one, yet refuses a token minted to live "forever".
 */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 86_400;
/**
 * `typ` header values an OpTok may carry (compared case-insensitively, `application/` optional,
 * RFC 7515 §4.1.9): the RFC 9068 access-token type, the generic `JWT`, or none. Any other explicit
 * type names another kind of JWT (a DPoP proof, a PoE, a logout or event token) and is refused.
 */
export const OPTOK_TYPES: readonly string[] = ['at+jwt', 'jwt'];

export interface OpTokVerifierOptions {
  getKey: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  algorithms: readonly string[];
  clockSkewSeconds: number;
  clock: Clock;
  /** `authority.maxTokenLifetimeSeconds`; default {@link DEFAULT_MAX_TOKEN_LIFETIME_SECONDS}. */
  maxTokenLifetimeSeconds?: number;
}

/**
 * Verifies Authority OpToks with jose, every check an explicit option: signature by an allow-listed
 * asymmetric algorithm, `typ` (see {@link OPTOK_TYPES}), `iss`, `aud`, `exp`/`nbf` with skew, a
 * bounded lifetime, and the claims the Signer needs (`sub`, `tid`). Any failure is `invalid_token`.
 */
export class OpTokVerifier implements TokenVerifier {
  private readonly algorithms: string[];
  private readonly maxLifetime: number;

  constructor(private readonly options: OpTokVerifierOptions) {
    this.algorithms = options.algorithms.filter((alg) =>
      (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg),
    );
    if (this.algorithms.length === 0)
      throw new Error('authority.allowedAlgorithms: expected at least one asymmetric algorithm');
    this.maxLifetime = options.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
    if (!Number.isSafeInteger(this.maxLifetime) || this.maxLifetime < 1)
      throw new RangeError('authority.maxTokenLifetimeSeconds: expected a positive integer');
  }

  async verify(token: string): Promise<VerifiedOpTok> {
    if (!isCanonicalCompactJws(token))
      throw new SignerError('invalid_token', 'OpTok refused: expected one canonical compact JWS');
    let payload: JWTPayload;
    let typ: string | undefined;
    try {
      ({
        payload,
        protectedHeader: { typ },
      } = await jwtVerify(token, this.options.getKey, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: this.algorithms,
        clockTolerance: this.options.clockSkewSeconds,
        currentDate: this.options.clock.now(),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      // The key source's own refusals (Authority unreachable → upstream_unavailable) pass through.
      if (error instanceof SignerError) throw error;
      throw new SignerError('invalid_token', `OpTok refused: ${describeJoseError(error)}`, { cause: error });
    }
    // After the signature: a forged token's header is not worth an operator's attention.
    if (typ !== undefined && !OPTOK_TYPES.includes(typ.toLowerCase().replace(/^application\//, ''))) {
      throw new SignerError(
        'invalid_token',
        'OpTok refused: expected typ at+jwt, JWT or none, got another type',
      );
    }
    this.checkLifetime(payload);
    return toVerifiedOpTok(payload, token);
  }

  /**
   * `exp − iat` within the maximum. Without `iat`, or with an `iat` ahead of this clock, the
   * lifetime still to run (`exp − now`) is what is bounded, with the skew allowed for.
   */
  private checkLifetime(payload: JWTPayload): void {
    const exp = payload.exp as number;
    const now = Math.floor(this.options.clock.now().getTime() / 1000);
    const iat = payload.iat;
    const lifetime = iat !== undefined && iat <= now ? exp - iat : exp - now - this.options.clockSkewSeconds;
    if (lifetime > this.maxLifetime) {
      throw new SignerError(
        'invalid_token',
        `OpTok refused: expected a lifetime of at most ${this.maxLifetime} s, got ${lifetime} s`,
      );
    }
  }
}

function optionalString(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new SignerError('invalid_token', `OpTok refused: expected claim ${claim} to be a string`);
  }
  return identity(claim, value);
}

/**
 * A claim that names someone or something is copied into records, logs, ceremony documents and
 * the CLI's output: a control character there could forge a line, and PostgreSQL `jsonb` cannot
 * hold NUL (a ceremony step by such a token failed 503). An Authority never issues one.
 */
function identity(claim: string, value: string): string {
  if (hasControlCharacters(value)) {
    throw new SignerError(
      'invalid_token',
      `OpTok refused: expected claim ${claim} without control characters`,
    );
  }
  return value;
}

function toVerifiedOpTok(payload: JWTPayload, token: string): VerifiedOpTok {
  const tenant = optionalString(payload, 'tid');
  if (!tenant) throw new SignerError('invalid_token', 'OpTok refused: expected claim tid, got none');
  const scope = payload['scope'];
  if (scope !== undefined && typeof scope !== 'string') {
    throw new SignerError('invalid_token', 'OpTok refused: expected scope to be a space-separated string');
  }
  if (scope !== undefined) identity('scope', scope);
  const cnf = payload['cnf'];
  const confirmation = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>) : {};
  const jkt = typeof confirmation['jkt'] === 'string' ? confirmation['jkt'] : undefined;
  const x5tS256 = typeof confirmation['x5t#S256'] === 'string' ? confirmation['x5t#S256'] : undefined;
  return {
    subject: identity('sub', payload.sub as string),
    clientId: optionalString(payload, 'client_id'),
    tenant,
    installation: optionalString(payload, 'inst'),
    scopes: (scope ?? '').split(' ').filter((s) => s.length > 0),
    jti: typeof payload.jti === 'string' ? identity('jti', payload.jti) : undefined,
    issuedAt: payload.iat,
    expiresAt: payload.exp as number,
    confirmation: { jkt, x5tS256 },
    tokenHash: createHash('sha256').update(token).digest('base64url'),
  };
}
