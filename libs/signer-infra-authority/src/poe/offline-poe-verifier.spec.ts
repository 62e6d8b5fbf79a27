import { DevLicensing } from '@signer/testing';
import { createLocalJWKSet } from 'jose';
import { ManualClock } from '../../test/fixtures';
import { OfflinePoeVerifier } from './offline-poe-verifier';

const NOW = 1_900_000_000;

describe('OfflinePoeVerifier', () => {
  let licensing: DevLicensing;
  let verifier: OfflinePoeVerifier;

  beforeAll(async () => {
    licensing = await DevLicensing.create();
    verifier = new OfflinePoeVerifier({
      getKey: createLocalJWKSet(licensing.jwks()),
      clock: new ManualClock(NOW * 1000),
      clockSkewSeconds: 30,
    });
  });

  describe('when the PoE is signed by Licensing', () => {
    it('maps the contract claims', async () => {
      const poe = await licensing.mintPoe(
        {
          tenant: 't',
          installation: 'i',
          plan: 'pro',
          valid_release_year: 2026,
          max_version: '2.0.0',
          limits: { qps: 5 },
        },
        { now: NOW },
      );
      await expect(verifier.verify({ format: 'jwt', value: poe })).resolves.toEqual({
        active: true,
        revoked: false,
        licenseId: 'lic-dev-0001',
        customerId: 'cust-dev',
        tenant: 't',
        installation: 'i',
        plan: 'pro',
        expiresAt: expect.any(Number),
        validReleaseYear: 2026,
        maxVersion: '2.0.0',
        limits: { qps: 5 },
      });
    });
    it('treats a PoE without an explicit active claim as inactive (fail closed)', async () => {
      const poe = await licensing.mintPoe({ active: undefined }, { now: NOW });
      await expect(verifier.verify({ format: 'jwt', value: poe })).resolves.toMatchObject({ active: false });
    });
  });

  describe('when the PoE cannot be trusted', () => {
    it.each([
      ['missing license_id', { license_id: undefined }],
      ['missing tenant', { tenant: undefined }],
      ['non-integer valid_release_year', { valid_release_year: 2026.5 }],
      ['limits not an object', { limits: 'many' as unknown as Record<string, number> }],
      ['revoked not a boolean', { revoked: 'true' as unknown as boolean }],
    ])('refuses %s with entitlement_denied', async (_name, claims) => {
      const poe = await licensing.mintPoe(claims, { now: NOW });
      await expect(verifier.verify({ format: 'jwt', value: poe })).rejects.toMatchObject({
        code: 'entitlement_denied',
      });
    });
    it('refuses an expired PoE', async () => {
      const poe = await licensing.mintPoe({}, { now: NOW - 1000, lifetimeSeconds: 100 });
      await expect(verifier.verify({ format: 'jwt', value: poe })).rejects.toMatchObject({
        code: 'entitlement_denied',
      });
    });
    it('refuses a PoE from another issuer key', async () => {
      const rogue = await DevLicensing.create();
      await expect(
        verifier.verify({ format: 'jwt', value: await rogue.mintPoe({}, { now: NOW }) }),
      ).rejects.toMatchObject({
        code: 'entitlement_denied',
      });
    });
    it('refuses an mTLS PoE offline', async () => {
      await expect(
        verifier.verify({ format: 'mtls', clientCertificate: Buffer.from('x') }),
      ).rejects.toMatchObject({ code: 'entitlement_denied' });
    });
  });
});
