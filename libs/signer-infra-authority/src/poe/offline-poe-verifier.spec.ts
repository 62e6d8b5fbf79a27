import { DevLicensing } from '@signer/dev';
import { createLocalJWKSet, importJWK, SignJWT } from 'jose';
import { ManualClock } from '@signer/testing';
import { activeDevLicence } from '../../test/dev-authorities';
import { OfflinePoeVerifier } from './offline-poe-verifier';

const NOW = 1_900_000_000;

describe('OfflinePoeVerifier', () => {
  let licensing: DevLicensing;
  let verifier: OfflinePoeVerifier;

  /** A PoE signed by the Licensing key with a header the dev Licensing would not choose. */
  const forge = async (header: Record<string, unknown>, claims: Record<string, unknown> = {}) =>
    new SignJWT({ active: true, license_id: 'l', tenant: 't', plan: 'pro', exp: NOW + 60, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: licensing.publicJwk.kid, ...header })
      .sign(await importJWK(await licensing.privateJwk(), 'ES256'));

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
      await expect(verifier.verify({ format: 'jwt', value: poe })).resolves.toEqual(
        activeDevLicence('2.0.0', { qps: 5 }),
      );
    });
    it.each([
      ['poe+jwt', 'poe+jwt'],
      ['application/poe+jwt', 'application/poe+jwt'],
      ['(none)', undefined],
    ])('accepts typ %s', async (_name, typ) => {
      await expect(verifier.verify({ format: 'jwt', value: await forge({ typ }) })).resolves.toMatchObject({
        licenseId: 'l',
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
    it.each(['at+jwt', 'dpop+jwt', 'JWT', 'application/license+jwt'])(
      'refuses a JWT of typ %s signed by the Licensing key',
      async (typ) => {
        await expect(verifier.verify({ format: 'jwt', value: await forge({ typ }) })).rejects.toMatchObject({
          code: 'entitlement_denied',
          message: expect.stringMatching(/expected typ poe\+jwt or none/),
        });
      },
    );
    it('refuses an mTLS PoE offline', async () => {
      await expect(
        verifier.verify({ format: 'mtls', clientCertificate: Buffer.from('x') }),
      ).rejects.toMatchObject({ code: 'entitlement_denied' });
    });
  });

  describe('when an issuer and an audience are configured', () => {
    let pinned: OfflinePoeVerifier;
    beforeAll(() => {
      pinned = new OfflinePoeVerifier({
        getKey: createLocalJWKSet(licensing.jwks()),
        clock: new ManualClock(NOW * 1000),
        clockSkewSeconds: 30,
        issuer: 'https://licensing.stella-ops.local',
        audience: 'signer',
      });
    });

    it('accepts a PoE from that issuer for that audience', async () => {
      const poe = await licensing.mintPoe({ aud: ['scanner', 'signer'] }, { now: NOW });
      await expect(pinned.verify({ format: 'jwt', value: poe })).resolves.toMatchObject({ active: true });
    });
    it.each([
      ['another issuer', { iss: 'https://licensing.evil.example', aud: 'signer' }, /claim iss failed/],
      ['no issuer', { aud: 'signer' }, /claim iss failed/],
      ['another audience', { iss: 'https://licensing.stella-ops.local', aud: 'scanner' }, /claim aud failed/],
      ['no audience', { iss: 'https://licensing.stella-ops.local' }, /claim aud failed/],
    ])('refuses %s with entitlement_denied', async (_name, claims, reason) => {
      await expect(
        pinned.verify({ format: 'jwt', value: await forge({ typ: 'poe+jwt' }, claims) }),
      ).rejects.toMatchObject({ code: 'entitlement_denied', message: expect.stringMatching(reason) });
    });
  });
});
