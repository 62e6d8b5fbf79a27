import {
  constants,
  createHash,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import type { PresentedCredentials, VerifiedOpTok } from '@signer/core';
import { DpopKey } from '@signer/client';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ManualClock } from '@signer/testing';
import { ListNonceStore, SetReplayCache } from '../../test/fixtures';
import { jwkThumbprint } from '../jws/jwk-thumbprint';
import { DpopProofVerifier, type NonceMode } from './dpop-proof-verifier';

const NOW = 1_900_000_000;
const URL_ = 'https://signer.example:8443/api/v1/signer/sign/dsse';
const TOKEN = 'header.payload.signature';

describe('DpopProofVerifier', () => {
  let key: DpopKey;
  let clock: ManualClock;
  let nonces: ListNonceStore;
  let replay: SetReplayCache;
  let token: VerifiedOpTok;

  const verifier = (nonce: NonceMode = 'optional') =>
    new DpopProofVerifier({
      algorithms: ['ES256', 'EdDSA', 'PS256'],
      clockSkewSeconds: 30,
      nonce,
      nonces,
      replay,
      clock,
    });
  const credentials = (
    proof: string | undefined,
    overrides: Partial<PresentedCredentials> = {},
  ): PresentedCredentials => ({
    scheme: 'DPoP',
    token: TOKEN,
    dpopProof: proof,
    method: 'POST',
    htu: URL_,
    ...overrides,
  });
  const proof = (overrides: Partial<Parameters<DpopKey['proof']>[0]> = {}) =>
    key.proof({ method: 'POST', url: URL_, accessToken: TOKEN, iat: NOW, ...overrides });

  beforeEach(async () => {
    key = await DpopKey.generate();
    clock = new ManualClock(NOW * 1000);
    nonces = new ListNonceStore();
    replay = new SetReplayCache();
    token = {
      subject: 's',
      tenant: 't',
      scopes: ['signer.sign'],
      expiresAt: NOW + 300,
      confirmation: { jkt: key.thumbprint },
      tokenHash: createHash('sha256').update(TOKEN).digest('base64url'),
    };
  });

  describe('when the proof is valid', () => {
    it('returns the key thumbprint', async () => {
      await expect(verifier().verify(token, credentials(await proof()))).resolves.toBe(key.thumbprint);
    });
    it('ignores the query string and default-port spelling of htu', async () => {
      const p = await proof({ url: 'HTTPS://SIGNER.example:8443/api/v1/signer/sign/dsse?x=1' });
      await expect(verifier().verify(token, credentials(p, { htu: URL_ }))).resolves.toBe(key.thumbprint);
    });
    it('accepts a nonce the server issued', async () => {
      const nonce = await nonces.issue();
      await expect(verifier('required').verify(token, credentials(await proof({ nonce })))).resolves.toBe(
        key.thumbprint,
      );
    });
  });

  describe('when a caller reuses its proof header (the checked header is cached)', () => {
    it('still verifies each proof: a signature from another proof under the same header is refused', async () => {
      const v = verifier();
      const first = await proof({ jti: 'first-proof-jti' });
      const second = await proof({ jti: 'second-proof-jti' });
      const [header, payload] = first.split('.');
      expect(second.split('.')[0]).toBe(header);
      await expect(v.verify(token, credentials(second))).resolves.toBe(key.thumbprint);
      await expect(
        v.verify(token, credentials(`${header}.${payload}.${second.split('.')[2]}`)),
      ).rejects.toMatchObject({ code: 'invalid_dpop_proof', message: expect.stringMatching(/signature/) });
      await expect(v.verify(token, credentials(first))).resolves.toBe(key.thumbprint);
    });

    it('refuses a bad header every time it is presented (refusals are not cached)', async () => {
      const v = verifier();
      const [, payload, signature] = (await proof()).split('.');
      const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256' })).toString('base64url');
      for (let attempt = 0; attempt < 2; attempt += 1) {
        await expect(v.verify(token, credentials(`${header}.${payload}.${signature}`))).rejects.toMatchObject(
          {
            code: 'invalid_dpop_proof',
            message: expect.stringMatching(/public jwk/),
          },
        );
      }
    });
  });

  describe('when the proof is not acceptable', () => {
    const expectRefused = async (
      p: string,
      overrides: Partial<PresentedCredentials> = {},
      mode: NonceMode = 'optional',
    ) =>
      expect(verifier(mode).verify(token, credentials(p, overrides))).rejects.toMatchObject({
        code: 'invalid_dpop_proof',
      });

    it('refuses a missing proof', async () => {
      await expect(verifier().verify(token, credentials(undefined))).rejects.toMatchObject({
        code: 'invalid_dpop_proof',
      });
    });
    it('refuses htm mismatch', async () => expectRefused(await proof({ method: 'GET' })));
    it('refuses htu for another path', async () =>
      expectRefused(await proof({ url: 'https://signer.example:8443/api/v1/signer/keys' })));
    it('refuses htu for another host', async () =>
      expectRefused(await proof({ url: 'https://evil.example:8443/api/v1/signer/sign/dsse' })));
    it('refuses iat too old', async () => expectRefused(await proof({ iat: NOW - 31 })));
    it('refuses iat too new', async () => expectRefused(await proof({ iat: NOW + 31 })));
    it('refuses a missing ath', async () =>
      expectRefused(await key.proof({ method: 'POST', url: URL_, iat: NOW })));
    it('refuses ath for another token', async () =>
      expectRefused(await key.proof({ method: 'POST', url: URL_, iat: NOW, accessToken: 'other' })));
    it('refuses a key other than cnf.jkt', async () => {
      const other = await DpopKey.generate();
      await expectRefused(await other.proof({ method: 'POST', url: URL_, accessToken: TOKEN, iat: NOW }));
    });
    it('refuses a replayed jti and burns nothing on refusal', async () => {
      const p = await proof({ jti: 'fixed-jti-0001' });
      await expect(verifier().verify(token, credentials(p))).resolves.toBe(key.thumbprint);
      await expectRefused(p);
    });
    it('remembers a jti until this clock reads iat + 2 × skew + 5 s (replicas may be skewed too)', async () => {
      await verifier().verify(token, credentials(await proof({ iat: NOW })));
      await verifier().verify(token, credentials(await proof({ iat: NOW - 10 })));
      await verifier().verify(token, credentials(await proof({ iat: NOW + 10 })));
      // A replica whose clock is 30 s behind accepts iat + 30 until this clock reads iat + 60.
      expect(replay.ttls).toEqual([65, 55, 75]);
    });
    it('refuses a refused proof without consuming its jti', async () => {
      const bad = await proof({ jti: 'jti-kept-000', method: 'GET' });
      await expectRefused(bad);
      expect(replay.seen.size).toBe(0);
    });
    it('refuses wrong typ', async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const jwk = await exportJWK(publicKey);
      const p = await new SignJWT({
        htm: 'POST',
        htu: URL_,
        iat: NOW,
        jti: 'abcdefgh12',
        ath: createHash('sha256').update(TOKEN).digest('base64url'),
      })
        .setProtectedHeader({ typ: 'JWT', alg: 'ES256', jwk })
        .sign(privateKey);
      await expectRefused(p);
    });
    it('refuses a header jwk carrying a private key', async () => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const jwk = await exportJWK(privateKey);
      const p = await new SignJWT({ htm: 'POST', htu: URL_, iat: NOW, jti: 'abcdefgh13' })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
        .sign(privateKey);
      await expectRefused(p);
    });
    it('refuses an alg outside the allow-list', async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES384');
      const p = await new SignJWT({ htm: 'POST', htu: URL_, iat: NOW, jti: 'abcdefgh14' })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES384', jwk: await exportJWK(publicKey) })
        .sign(privateKey);
      await expectRefused(p);
    });
    it('refuses garbage and several proofs in one header', async () => {
      await expectRefused('garbage');
      const p = await proof();
      await expectRefused(`${p}, ${p}`);
    });
  });

  describe('when the proof key is not the key the token is bound to', () => {
    it('refuses on the thumbprint before any signature work (a garbage signature gets the cnf.jkt reason)', async () => {
      const other = await DpopKey.generate();
      const [header, payload] = (
        await other.proof({ method: 'POST', url: URL_, accessToken: TOKEN, iat: NOW })
      ).split('.');
      const garbage = randomBytes(64).toString('base64url');
      await expect(
        verifier().verify(token, credentials(`${header}.${payload}.${garbage}`)),
      ).rejects.toMatchObject({
        code: 'invalid_dpop_proof',
        message: expect.stringMatching(/cnf\.jkt/),
      });
    });
    it('refuses a header that verified for another token when it comes with this one', async () => {
      const v = verifier();
      const p = await proof({ jti: 'cached-header-0001' });
      await expect(v.verify(token, credentials(p))).resolves.toBe(key.thumbprint);
      const other = { ...token, confirmation: { jkt: (await DpopKey.generate()).thumbprint } };
      await expect(v.verify(other, credentials(await proof()))).rejects.toMatchObject({
        code: 'invalid_dpop_proof',
        message: expect.stringMatching(/cnf\.jkt/),
      });
    });
  });

  describe('when the proof key is RSA (PS256)', () => {
    const rsa = (modulusLength: number, publicExponent = 65537) =>
      generateKeyPairSync('rsa', { modulusLength, publicExponent });
    /** A PS256 proof under `jwk`, signed by `privateKey`, or with a random signature when none is given. */
    const rsaProof = (jwk: JsonWebKey, privateKey?: KeyObject) => {
      const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const header = segment({ typ: 'dpop+jwt', alg: 'PS256', jwk: { kty: 'RSA', n: jwk.n, e: jwk.e } });
      const payload = segment({ htm: 'POST', htu: URL_, iat: NOW, jti: randomUUID(), ath: token.tokenHash });
      const signature = privateKey
        ? sign('sha256', Buffer.from(`${header}.${payload}`), {
            key: privateKey,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: 32,
          })
        : randomBytes(256);
      return `${header}.${payload}.${signature.toString('base64url')}`;
    };
    /** The token bound to `jwk`, so only the key bounds can refuse the proof. */
    const boundTo = (jwk: JsonWebKey): VerifiedOpTok => ({
      ...token,
      confirmation: { jkt: jwkThumbprint({ kty: 'RSA', n: jwk.n, e: jwk.e }) as string },
    });
    let rsa2048: { publicKey: KeyObject; privateKey: KeyObject };

    beforeAll(() => {
      rsa2048 = rsa(2048);
    });

    it('accepts a 2048-bit key with e = 65537', async () => {
      const jwk = rsa2048.publicKey.export({ format: 'jwk' });
      await expect(
        verifier().verify(boundTo(jwk), credentials(rsaProof(jwk, rsa2048.privateKey))),
      ).resolves.toBe(boundTo(jwk).confirmation.jkt);
    });

    it.each([
      ['e = 3', () => rsa(2048, 3).publicKey.export({ format: 'jwk' })],
      [
        'a 4096-bit e',
        () => ({
          ...rsa2048.publicKey.export({ format: 'jwk' }),
          e: Buffer.concat([Buffer.from([0x80]), randomBytes(510), Buffer.from([0x01])]).toString(
            'base64url',
          ),
        }),
      ],
    ])('refuses %s as invalid_dpop_proof before verifying the signature', async (_name, jwkOf) => {
      const jwk = jwkOf();
      // The signature is random bytes: had it been checked, the reason would be the signature.
      await expect(verifier().verify(boundTo(jwk), credentials(rsaProof(jwk)))).rejects.toMatchObject({
        code: 'invalid_dpop_proof',
        message: expect.stringMatching(/public exponent 65537/),
      });
    });

    it.each([
      ['1024-bit', () => rsa(1024).publicKey.export({ format: 'jwk' })],
      [
        '8192-bit',
        () => ({
          kty: 'RSA',
          e: 'AQAB',
          n: Buffer.concat([Buffer.from([0xc5]), randomBytes(1022), Buffer.from([0x01])]).toString(
            'base64url',
          ),
        }),
      ],
    ])('refuses a %s modulus before verifying the signature', async (_name, jwkOf) => {
      const jwk = jwkOf();
      await expect(verifier().verify(boundTo(jwk), credentials(rsaProof(jwk)))).rejects.toMatchObject({
        code: 'invalid_dpop_proof',
        message: expect.stringMatching(/RSA modulus of 2048\.\.4096 bits/),
      });
    });
  });

  describe('when nonces are required', () => {
    it('answers use_dpop_nonce with a fresh nonce for a proof without one', async () => {
      await expect(verifier('required').verify(token, credentials(await proof()))).rejects.toMatchObject({
        code: 'use_dpop_nonce',
        dpopNonce: nonces.issued[0] ?? expect.any(String),
      });
      expect(nonces.issued).toHaveLength(1);
    });
    it('answers use_dpop_nonce for a nonce from nowhere', async () => {
      await expect(
        verifier('required').verify(token, credentials(await proof({ nonce: 'made-up-nonce-1234' }))),
      ).rejects.toMatchObject({
        code: 'use_dpop_nonce',
      });
    });
  });
});
