import type { Clock } from '@signer/core';
import { DEV_AUDIENCE, DEV_ISSUER, type DevAuthority } from '@signer/dev';
import { createLocalJWKSet } from 'jose';
import { OpTokVerifier, type OpTokVerifierOptions } from '../src/optok/optok-verifier';

/** An OpTokVerifier trusting the dev Authority's keys, with the options the specs share. */
export function devOpTokVerifier(
  authority: DevAuthority,
  clock: Clock,
  options: Partial<OpTokVerifierOptions> = {},
): OpTokVerifier {
  return new OpTokVerifier({
    getKey: createLocalJWKSet(authority.jwks()),
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    algorithms: ['ES256'],
    clockSkewSeconds: 30,
    clock,
    ...options,
  });
}

/** The licence decision both PoE verifiers must map from the dev Licensing's active licence. */
export function activeDevLicence(maxVersion: string, limits: Record<string, number>) {
  return {
    active: true,
    revoked: false,
    licenseId: 'lic-dev-0001',
    customerId: 'cust-dev',
    tenant: 't',
    installation: 'i',
    plan: 'pro',
    expiresAt: expect.any(Number),
    validReleaseYear: 2026,
    maxVersion,
    limits,
  };
}
