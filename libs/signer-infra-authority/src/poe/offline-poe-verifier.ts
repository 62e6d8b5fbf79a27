import {
  SignerError,
  type Clock,
  type EntitlementClaims,
  type EntitlementVerifier,
  type PlanLimits,
  type PoePresentation,
} from '@signer/core';
import { jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { describeJoseError } from '../optok/jose-errors';
import { ASYMMETRIC_ALGORITHMS } from '../optok/optok-verifier';

/**
 * The `typ` an offline PoE may carry (case-insensitive, `application/` optional), or none: the type
 * Licensing gives its PoE JWTs. Another explicit type is another kind of JWT that the same Licensing
 * key may sign, and is never a PoE.
 */
export const POE_TYPE = 'poe+jwt';

export interface OfflinePoeVerifierOptions {
  getKey: JWTVerifyGetKey;
  clock: Clock;
  clockSkewSeconds: number;
  /** `licensing.offlineIssuer`: when set, the PoE's `iss` must equal it exactly. */
  issuer?: string;
  /** `licensing.offlineAudience`: when set, the PoE's `aud` must contain it. */
  audience?: string;
}

const deny = (message: string, cause?: unknown) => new SignerError('entitlement_denied', message, { cause });

/**
 * Air-gap PoE (contract §4): a JWT signed by the Licensing keys carrying the introspection claims.
 * An unauthenticated or incomplete PoE, one of another `typ`, or (when configured) another issuer
 * or audience is `entitlement_denied`; `active`/`revoked`/window are judged by the core policies
 * from the returned claims.
 */
export class OfflinePoeVerifier implements EntitlementVerifier {
  constructor(private readonly options: OfflinePoeVerifierOptions) {}

  async verify(poe: PoePresentation): Promise<EntitlementClaims> {
    if (poe.format !== 'jwt' || !poe.value) {
      throw deny('expected a PoE JWT (offline Licensing cannot introspect an mTLS PoE)');
    }
    let payload: JWTPayload;
    let typ: string | undefined;
    try {
      ({
        payload,
        protectedHeader: { typ },
      } = await jwtVerify(poe.value, this.options.getKey, {
        algorithms: [...ASYMMETRIC_ALGORITHMS],
        currentDate: this.options.clock.now(),
        clockTolerance: this.options.clockSkewSeconds,
        requiredClaims: ['exp'],
        issuer: this.options.issuer,
        audience: this.options.audience,
      }));
    } catch (error) {
      throw deny(`PoE refused: ${describeJoseError(error)}`, error);
    }
    if (typ !== undefined && typ.toLowerCase().replace(/^application\//, '') !== POE_TYPE)
      throw deny(`PoE refused: expected typ ${POE_TYPE} or none, got another type`);
    return claimsFromPayload(payload);
  }
}

/** Maps Licensing's claim names (contract §4) to the domain; shared by online introspection. */
export function claimsFromPayload(payload: Record<string, unknown>): EntitlementClaims {
  const text = (name: string, required: boolean): string | undefined => {
    const value = payload[name];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value.length === 0)
      throw deny(`PoE refused: expected claim ${name} to be a string`);
    return value;
  };
  const exp = payload['exp'];
  if (typeof exp !== 'number') throw deny('PoE refused: expected a numeric exp');
  const year = payload['valid_release_year'];
  if (year !== undefined && !Number.isInteger(year))
    throw deny('PoE refused: expected valid_release_year to be an integer');
  // A revocation flag that is not a boolean is doubt: refuse rather than read it as "not revoked".
  const revoked = payload['revoked'];
  if (revoked !== undefined && typeof revoked !== 'boolean')
    throw deny('PoE refused: expected revoked to be a boolean');
  const limits = payload['limits'];
  if (limits !== undefined && (typeof limits !== 'object' || limits === null || Array.isArray(limits))) {
    throw deny('PoE refused: expected limits to be an object');
  }
  return {
    // Fail closed: only an explicit `active: true` counts as active.
    active: payload['active'] === true,
    revoked: revoked === true,
    licenseId: text('license_id', true) as string,
    customerId: text('customer_id', false),
    tenant: text('tenant', true) as string,
    installation: text('installation', false),
    plan: text('plan', true) as string,
    expiresAt: exp,
    validReleaseYear: year as number | undefined,
    maxVersion: text('max_version', false),
    limits: limits as Partial<PlanLimits> | undefined,
  };
}
