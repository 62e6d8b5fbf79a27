import { DevAuthority, DEV_AUDIENCE, DEV_ISSUER } from '@signer/dev';
import { createLocalJWKSet, importJWK, SignJWT } from 'jose';
import { ManualClock } from '@signer/testing';
import { OpTokVerifier } from './optok-verifier';
import { devOpTokVerifier } from '../../test/dev-authorities';

const NOW = 1_900_000_000;

describe('OpTokVerifier', () => {
  let authority: DevAuthority;
  let verifier: OpTokVerifier;
  const clock = new ManualClock(NOW * 1000);

  beforeAll(async () => {
    authority = await DevAuthority.create();
    verifier = devOpTokVerifier(authority, clock);
  });

  const mint = (claims: Parameters<DevAuthority['mint']>[0] = {}) =>
    authority.mint({ now: NOW, jkt: 'thumb', ...claims });
  /** A token signed by the Authority's key with a header and claims the dev Authority would not mint. */
  const forge = async (header: Record<string, unknown>, claims: Record<string, unknown>) =>
    new SignJWT({ iss: DEV_ISSUER, aud: DEV_AUDIENCE, sub: 's', tid: 't', cnf: { jkt: 'thumb' }, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: authority.kid, ...header })
      .sign(await importJWK(await authority.privateJwk(), 'ES256'));

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
      // Identity claims reach records, logs, ceremony documents (jsonb: no NUL) and CLI output.
      ['sub holding NUL', { subject: 'alice\u0000' }],
      ['tid holding a line break', { extra: { tid: 't1\nforged' } }],
      ['client_id holding DEL', { extra: { client_id: 'c\u007f' } }],
      ['inst holding a C1 control', { extra: { inst: 'i\u0085' } }],
      ['scope holding a tab', { extra: { scope: 'signer.sign\tother' } }],
    ])('refuses %s with invalid_token', async (_name, claims) => {
      await expect(verifier.verify(await mint(claims))).rejects.toMatchObject({
        name: 'SignerError',
        code: 'invalid_token',
      });
    });
    it('refuses a jti holding a control character (ESC) with invalid_token', async () => {
      const token = await forge({}, { iat: NOW, exp: NOW + 300, jti: 'j\u001b[2J' });
      await expect(verifier.verify(token)).rejects.toMatchObject({
        code: 'invalid_token',
        message: 'OpTok refused: expected claim jti without control characters',
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

  describe('when the typ header names a kind of JWT', () => {
    it.each([
      ['at+jwt', 'at+jwt'],
      ['application/at+jwt', 'application/at+jwt'],
      ['AT+JWT', 'AT+JWT'],
      ['JWT', 'JWT'],
      ['no typ', undefined],
    ])('accepts %s', async (_name, typ) => {
      const token = await forge({ typ }, { iat: NOW, exp: NOW + 300 });
      await expect(verifier.verify(token)).resolves.toMatchObject({ tenant: 't' });
    });
    it.each(['dpop+jwt', 'poe+jwt', 'application/secevent+jwt', 'logout+jwt'])(
      'refuses %s with invalid_token',
      async (typ) => {
        const token = await forge({ typ }, { iat: NOW, exp: NOW + 300 });
        await expect(verifier.verify(token)).rejects.toMatchObject({
          code: 'invalid_token',
          message: expect.stringMatching(/expected typ at\+jwt, JWT or none/),
        });
      },
    );
  });

  describe('when the token lives longer than maxTokenLifetimeSeconds', () => {
    let bounded: OpTokVerifier;
    beforeAll(() => {
      bounded = devOpTokVerifier(authority, clock, { maxTokenLifetimeSeconds: 600 });
    });

    it('accepts exp − iat equal to the maximum', async () => {
      await expect(bounded.verify(await mint({ lifetimeSeconds: 600 }))).resolves.toBeDefined();
    });
    it.each([
      ['exp − iat one second over', () => mint({ lifetimeSeconds: 601 })],
      ['no iat and exp beyond now + maximum + skew', () => forge({}, { exp: NOW + 600 + 31 })],
      [
        'an iat years ahead (exp − iat small, but valid for years)',
        () => forge({}, { iat: NOW + 1e8, exp: NOW + 1e8 + 60 }),
      ],
    ])('refuses %s with invalid_token', async (_name, token) => {
      await expect(bounded.verify(await token())).rejects.toMatchObject({
        code: 'invalid_token',
        message: expect.stringMatching(/expected a lifetime of at most 600 s/),
      });
    });
    it('accepts no iat with exp within now + maximum + skew', async () => {
      await expect(bounded.verify(await forge({}, { exp: NOW + 600 + 30 }))).resolves.toBeDefined();
    });
    it('refuses a "forever" token under the default (one day)', async () => {
      await expect(verifier.verify(await mint({ lifetimeSeconds: 10 * 365 * 86400 }))).rejects.toMatchObject({
        code: 'invalid_token',
        message: expect.stringMatching(/at most 86400 s/),
      });
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
