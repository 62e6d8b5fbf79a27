import { SignerError } from '../errors';
import type { EntitlementClaims, PlanLimits, ReleaseMetadata } from '../model';
import { compareSemVer, parseSemVer } from './semver';

/** Licence must be active, not revoked, and not expired at `nowSeconds`. */
export function assertEntitlementActive(claims: EntitlementClaims, nowSeconds: number): void {
  if (!claims.active) throw new SignerError('entitlement_denied', 'expected an active licence, got inactive');
  if (claims.revoked)
    throw new SignerError('entitlement_denied', 'expected a licence not revoked, got revoked');
  if (!(claims.expiresAt > nowSeconds)) {
    throw new SignerError('entitlement_denied', `expected exp after ${nowSeconds}, got ${claims.expiresAt}`);
  }
}

/**
 * The scanner release must fall inside the licence window (contract §4): its year (from the signed
 * `created`) not after `valid_release_year`, its version not above `max_version`. When the PoE sets
 * a window and the release metadata it needs is missing or unparsable, deny.
 */
export function assertReleaseWindow(claims: EntitlementClaims, release: ReleaseMetadata | null): void {
  if (claims.validReleaseYear !== undefined) {
    const created = release?.created ? Date.parse(release.created) : Number.NaN;
    if (Number.isNaN(created)) {
      throw new SignerError(
        'entitlement_denied',
        'expected release creation time for the licence window, got none',
      );
    }
    const year = new Date(created).getUTCFullYear();
    if (year > claims.validReleaseYear) {
      throw new SignerError(
        'entitlement_denied',
        `expected release year <= ${claims.validReleaseYear}, got ${year}`,
      );
    }
  }
  if (claims.maxVersion !== undefined) {
    const max = parseSemVer(claims.maxVersion);
    const actual = release?.version ? parseSemVer(release.version) : null;
    if (!max || !actual) {
      throw new SignerError(
        'entitlement_denied',
        'expected comparable release and licence versions, got none',
      );
    }
    if (compareSemVer(actual, max) > 0) {
      throw new SignerError(
        'entitlement_denied',
        `expected release version <= ${claims.maxVersion}, got ${release?.version}`,
      );
    }
  }
}

/** The plan's limits with the PoE's `limits` overrides applied; an unknown plan is a denial. */
export function resolvePlanLimits(
  plans: Readonly<Record<string, PlanLimits>>,
  claims: EntitlementClaims,
): PlanLimits {
  const base = Object.prototype.hasOwnProperty.call(plans, claims.plan) ? plans[claims.plan] : undefined;
  if (!base) throw new SignerError('entitlement_denied', `expected a configured plan, got ${claims.plan}`);
  const overrides = claims.limits ?? {};
  const pick = (name: keyof PlanLimits): number => {
    const value = overrides[name];
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : base[name];
  };
  return {
    qps: pick('qps'),
    burst: pick('burst'),
    concurrency: pick('concurrency'),
    maxArtifactBytes: pick('maxArtifactBytes'),
    dailyCap: pick('dailyCap'),
  };
}
