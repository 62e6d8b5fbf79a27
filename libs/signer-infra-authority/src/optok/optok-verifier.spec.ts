import { DevAuthority, DEV_AUDIENCE, DEV_ISSUER } from '@signer/testing';
import { createLocalJWKSet } from 'jose';
import { ManualClock } from '../../test/fixtures';
import { OpTokVerifier } from './optok-verifier';

const NOW = 1_900_000_000;

describe('OpTokVerifier', () => {
  let authority: DevAuthority;
  let verifier: OpTokVerifier;
  const clock = new ManualClock(NOW * 1000);

  beforeAll(async () => {
    authority = await DevAuthority.create();
    verifier = new OpTokVerifier({
      getKey: createLocalJWKSet(authority.jwks()),
      issuer: DEV_ISSUER,
      audience: DEV_AUDIENCE,
      algorithms: ['ES256'],
      clockSkewSeconds: 30,
      clock,
    });
  });

  const mint = (claims: Parameters<DevAuthority['mint']>[0] = {}) =>
    authority.mint({ now: NOW, jkt: 'thumb', ...claims });

  describe('when the token is valid', () => {
    it('returns the caller identity and binding without the raw token', async () => {
      const token = await mint({ tenant: 't1', installation: 'i1', scope: 'signer.sign other' });
      const verified = await verifier.verify(token);
      expect(verified).toMatchObject({
        tenant: 't1',
        installation: 'i1',
        scopes: ['signer.sign', 'other'],
        confirmation: { jkt: 'thumb' },
      });
      expect(JSON.stringify(verified)).not.toContain(token);
    });
    it('accepts a multi-audience token that includes signer', async () => {
      await expect(verifier.verify(await mint({ audience: ['other', 'signer'] }))).resolves.toBeDefined();
    });
    it('accepts exp within the clock skew', async () => {
      await expect(
        verifier.verify(await mint({ now: NOW - 320, lifetimeSeconds: 300 })),
      ).resolves.toBeDefined();
    });
  });

  describe('when a check fails', () => {
    it.each([
      ['wrong iss', { issuer: 'https://evil.example' }],
      ['wrong aud', { audience: 'scanner' }],
      ['multi-audience without signer', { audience: ['a', 'b'] }],
      ['expired beyond skew', { now: NOW - 400, lifetimeSeconds: 300 }],
      ['nbf in the future beyond skew', { notBefore: NOW + 120 }],
      ['unknown kid', { kid: 'rotated-away' }],
      ['tid missing', { extra: { tid: undefined } }],
      ['tid not a string', { extra: { tid: 42 } }],
      ['scope not a string', { extra: { scope: ['signer.sign'] } }],
    ])('refuses %s with invalid_token', async (_name, claims) => {
      await expect(verifier.verify(await mint(claims))).rejects.toMatchObject({
        name: 'SignerError',
        code: 'invalid_token',
      });
    });
    it('refuses a token signed by another authority', async () => {
      const rogue = await DevAuthority.create();
      await expect(verifier.verify(await rogue.mint({ now: NOW }))).rejects.toMatchObject({
        code: 'invalid_token',
      });
    });
    it('refuses garbage', async () => {
      await expect(verifier.verify('not.a.jwt')).rejects.toMatchObject({ code: 'invalid_token' });
    });
  });

  describe('when configured with no asymmetric algorithm', () => {
    it('refuses to construct', () => {
      expect(
        () =>
          new OpTokVerifier({
            getKey: createLocalJWKSet({ keys: [] }),
            issuer: 'x',
            audience: 'y',
            algorithms: ['HS256', 'none'],
            clockSkewSeconds: 0,
            clock,
          }),
      ).toThrow(/asymmetric/);
    });
  });
});
