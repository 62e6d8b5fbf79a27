import { createHash } from 'node:crypto';
import { SignerError, type Clock, type TokenVerifier, type VerifiedOpTok } from '@signer/core';
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
export const DEFAULT_AUDIENCE = 'signer';
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;

export interface OpTokVerifierOptions {
  getKey: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  algorithms: readonly string[];
  clockSkewSeconds: number;
  clock: Clock;
}

/**
 * Verifies Authority OpToks with jose, every check an explicit option: signature by an allow-listed
 * asymmetric algorithm, `iss`, `aud`, `exp`/`nbf` with skew, and the claims the Signer needs
 * (`sub`, `tid`). Any failure is `invalid_token`.
 */
export class OpTokVerifier implements TokenVerifier {
  private readonly algorithms: string[];

  constructor(private readonly options: OpTokVerifierOptions) {
    this.algorithms = options.algorithms.filter((alg) =>
      (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg),
    );
    if (this.algorithms.length === 0)
      throw new Error('authority.allowedAlgorithms: expected at least one asymmetric algorithm');
  }

  async verify(token: string): Promise<VerifiedOpTok> {
    if (!isCanonicalCompactJws(token))
      throw new SignerError('invalid_token', 'OpTok refused: expected one canonical compact JWS');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.options.getKey, {
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
    return toVerifiedOpTok(payload, token);
  }
}

function optionalString(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new SignerError('invalid_token', `OpTok refused: expected claim ${claim} to be a string`);
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
  const cnf = payload['cnf'];
  const confirmation = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>) : {};
  const jkt = typeof confirmation['jkt'] === 'string' ? confirmation['jkt'] : undefined;
  const x5tS256 = typeof confirmation['x5t#S256'] === 'string' ? confirmation['x5t#S256'] : undefined;
  return {
    subject: payload.sub as string,
    clientId: optionalString(payload, 'client_id'),
    tenant,
    installation: optionalString(payload, 'inst'),
    scopes: (scope ?? '').split(' ').filter((s) => s.length > 0),
    jti: typeof payload.jti === 'string' ? payload.jti : undefined,
    issuedAt: payload.iat,
    expiresAt: payload.exp as number,
    confirmation: { jkt, x5tS256 },
    tokenHash: createHash('sha256').update(token).digest('base64url'),
  };
}
