import { SignerError } from '@signer/core';
import fc from 'fast-check';
import { claimsFromPayload } from './offline-poe-verifier';

/** CI replays one fixed seed (reproducible); locally every run explores new cases (fast-check prints the seed). */
const SEED = process.env['CI'] ? { seed: 20261128 } : {};
const CLAIMS = [
  'active',
  'revoked',
  'license_id',
  'customer_id',
  'tenant',
  'installation',
  'plan',
  'exp',
  'valid_release_year',
  'max_version',
  'limits',
  'toString',
  'constructor',
];
const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(true, false, 'true', 1, 0, null, 'x', 1_900_000_000, 2026, { toString: 1 }, []),
);
/** Payloads near a valid answer (most claims present) as well as arbitrary ones. */
const payload = fc.oneof(
  fc.dictionary(fc.oneof(fc.constantFrom(...CLAIMS), fc.string()), value, { maxKeys: 14 }),
  fc
    .record({ member: fc.constantFrom(...CLAIMS), replacement: fc.option(value, { nil: undefined }) })
    .map(({ member, replacement }) => {
      const base: Record<string, unknown> = {
        active: true,
        license_id: 'lic-1',
        tenant: 't',
        plan: 'pro',
        exp: 1_900_000_000,
      };
      if (replacement === undefined) delete base[member];
      else base[member] = replacement;
      return base;
    }),
);

describe('claimsFromPayload', () => {
  describe('when the PoE payload is any JSON object', () => {
    it('gives claims or SignerError entitlement_denied, and is active only on active: true', () => {
      let accepted = 0;
      fc.assert(
        fc.property(payload, (input) => {
          let claims;
          try {
            claims = claimsFromPayload(input);
          } catch (error) {
            expect(error).toBeInstanceOf(SignerError);
            expect((error as SignerError).code).toBe('entitlement_denied');
            return;
          }
          accepted += 1;
          expect(claims.active).toBe(input['active'] === true);
          expect(claims.revoked).toBe(input['revoked'] === true);
          expect(typeof claims.licenseId).toBe('string');
          expect(typeof claims.tenant).toBe('string');
          expect(typeof claims.expiresAt).toBe('number');
        }),
        { numRuns: 3000, ...SEED },
      );
      expect(accepted).toBeGreaterThan(0);
    });
  });
});
