import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { FulcioTestCa } from '@signer/testing';
import { checkIssuedChain } from './fulcio-certificate';
import { FulcioResponseError } from './fulcio-client';

describe('checkIssuedChain', () => {
  let ca: FulcioTestCa;
  let key: KeyObject;
  let chain: string[];
  const issue = (publicKey: KeyObject, embedSct = true) =>
    ca.issue({
      publicKeySpki: publicKey.export({ type: 'spki', format: 'der' }),
      issuer: 'https://oidc.test',
      san: { email: 'signer@test' },
      notBefore: new Date(Date.now() - 1000),
      notAfter: new Date(Date.now() + 600_000),
      embedSct,
    });
  beforeAll(async () => {
    ca = await FulcioTestCa.create();
    key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    chain = await issue(key);
  });

  describe('when the chain certifies our key', () => {
    it('reads the identity from the certificate', () => {
      expect(checkIssuedChain(chain, { publicKey: key, requireEmbeddedSct: true })).toMatchObject({
        issuer: 'https://oidc.test',
        subject: 'signer@test',
        embeddedSct: true,
        fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
        serial: expect.stringMatching(/^[0-9a-f]+$/),
      });
    });
  });

  describe('when the answer is not about our key or not coherent', () => {
    it('refuses a leaf for another key', () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
      expect(() => checkIssuedChain(chain, { publicKey: other, requireEmbeddedSct: true })).toThrow(
        /not for the key that requested it/,
      );
    });

    it('refuses a leaf without its issuers', () => {
      expect(() => checkIssuedChain(chain.slice(0, 1), { publicKey: key, requireEmbeddedSct: true })).toThrow(
        FulcioResponseError,
      );
    });

    it('refuses a chain whose order does not link', () => {
      expect(() =>
        checkIssuedChain([chain[0], chain[2], chain[1]], { publicKey: key, requireEmbeddedSct: true }),
      ).toThrow(/certificate 0 is not issued and signed by certificate 1/);
    });

    it('refuses a chain from another CA', async () => {
      const foreign = await (
        await FulcioTestCa.create()
      ).issue({
        publicKeySpki: key.export({ type: 'spki', format: 'der' }),
        issuer: 'https://oidc.test',
        san: { email: 'signer@test' },
        notBefore: new Date(),
        notAfter: new Date(Date.now() + 600_000),
        embedSct: true,
      });
      expect(() =>
        checkIssuedChain([foreign[0], ...chain.slice(1)], { publicKey: key, requireEmbeddedSct: true }),
      ).toThrow(/not issued and signed/);
    });

    it('refuses garbage', () => {
      expect(() =>
        checkIssuedChain(['not a certificate', chain[1]], { publicKey: key, requireEmbeddedSct: true }),
      ).toThrow(/does not parse/);
    });

    it('refuses a leaf without an embedded SCT unless allowed', async () => {
      const withoutSct = await issue(key, false);
      expect(() => checkIssuedChain(withoutSct, { publicKey: key, requireEmbeddedSct: true })).toThrow(
        /no embedded SCT/,
      );
      expect(checkIssuedChain(withoutSct, { publicKey: key, requireEmbeddedSct: false }).embeddedSct).toBe(
        false,
      );
    });
  });
});
