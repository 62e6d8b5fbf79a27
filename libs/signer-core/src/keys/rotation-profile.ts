import type { ManagedKey } from './managed-state';

/**
 * A rotation policy (config `signing.rotation.profiles.<name>`): which algorithms a key of this
 * profile may use, how long after `validFrom` it may sign at most, and how early `/readyz` warns.
 */
export interface RotationProfile {
  algorithms: readonly string[];
  /** Absent: no age limit beyond the key's own `validUntil`. */
  maxAgeDays?: number;
  warningDays: number;
}

export const DEFAULT_PROFILE_NAME = 'default';

/** Used when no `default` profile is configured: every algorithm, no age limit, warn 30 days ahead. */
export const DEFAULT_ROTATION_PROFILE: RotationProfile = {
  algorithms: ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'],
  warningDays: 30,
};

const DAY_MS = 86_400_000;

/**
 * The instant a key stops being allowed to sign by validity alone: the earlier of its `validUntil`
 * and `validFrom + maxAgeDays`. Undefined when neither bounds it.
 */
export function signingDeadline(key: ManagedKey, profile: RotationProfile | undefined): Date | undefined {
  const limits: number[] = [];
  if (key.validUntil !== undefined) limits.push(Date.parse(key.validUntil));
  if (profile?.maxAgeDays !== undefined) limits.push(Date.parse(key.validFrom) + profile.maxAgeDays * DAY_MS);
  return limits.length === 0 ? undefined : new Date(Math.min(...limits));
}

/**
 * Why `key` may not sign at `now`, or undefined when it may: it must be `active`, and
 * `validFrom ≤ now < deadline` ({@link signingDeadline}).
 */
export function signingBlocker(
  key: ManagedKey,
  now: Date,
  profile: RotationProfile | undefined,
): string | undefined {
  if (key.state !== 'active') return `signing key "${key.name}" is ${key.state}`;
  if (now.getTime() < Date.parse(key.validFrom))
    return `signing key "${key.name}" is not valid before ${key.validFrom}`;
  const deadline = signingDeadline(key, profile);
  if (deadline !== undefined && now.getTime() >= deadline.getTime())
    return `signing key "${key.name}" expired at ${deadline.toISOString()}`;
  return undefined;
}

export function canSign(key: ManagedKey, now: Date, profile?: RotationProfile): boolean {
  return signingBlocker(key, now, profile) === undefined;
}

/** Days (fractional) until the key's deadline; undefined when unbounded. Negative once past. */
export function daysToExpiry(
  key: ManagedKey,
  now: Date,
  profile: RotationProfile | undefined,
): number | undefined {
  const deadline = signingDeadline(key, profile);
  return deadline === undefined ? undefined : (deadline.getTime() - now.getTime()) / DAY_MS;
}

/** True when an active key is within its profile's warning period (still signs; `/readyz` warns). */
export function inWarningPeriod(key: ManagedKey, now: Date, profile: RotationProfile | undefined): boolean {
  if (key.state !== 'active' || profile === undefined) return false;
  const days = daysToExpiry(key, now, profile);
  return days !== undefined && days >= 0 && days <= profile.warningDays;
}
