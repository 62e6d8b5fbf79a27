import { SignerError, type KeySigner, type SigningMode } from '@signer/core';
import { KeyConfigError } from '../errors';
import { StaticKeySignerRegistry } from './static-key-signer-registry';

function fakeSigner(keyId: string, mode: SigningMode): KeySigner {
  return {
    keyId,
    mode,
    algorithm: 'ES256',
    sign: () => Promise.reject(new Error('not used')),
    describe: () => Promise.reject(new Error('not used')),
  };
}

const primary = fakeSigner('primary', 'kms');
const secondary = fakeSigner('secondary', 'kms');
const fulcio = fakeSigner('fulcio', 'keyless');

describe('StaticKeySignerRegistry', () => {
  describe('when mode is kms', () => {
    const registry = new StaticKeySignerRegistry({
      signers: [primary, secondary, fulcio],
      defaultKeyId: 'primary',
    });

    it('returns the default key when the request names none', () => {
      expect(registry.resolve('kms', undefined)).toBe(primary);
    });

    it('returns the named key', () => {
      expect(registry.resolve('kms', 'secondary')).toBe(secondary);
    });

    it('refuses an unknown key with invalid_request naming it, never falling back', () => {
      expect(() => registry.resolve('kms', 'nope')).toThrow(
        expect.objectContaining({ code: 'invalid_request', message: 'unknown signing key "nope"' }),
      );
    });

    it('does not hand out the keyless signer by its id', () => {
      expect(() => registry.resolve('kms', 'fulcio')).toThrow(SignerError);
    });

    it('refuses when no key is named and no default is configured', () => {
      const noDefault = new StaticKeySignerRegistry({ signers: [primary] });
      expect(() => noDefault.resolve('kms', undefined)).toThrow(
        expect.objectContaining({ code: 'invalid_request' }),
      );
    });
  });

  describe('when mode is keyless', () => {
    it('returns the keyless signer when configured', () => {
      const registry = new StaticKeySignerRegistry({ signers: [primary, fulcio], defaultKeyId: 'primary' });
      expect(registry.resolve('keyless', undefined)).toBe(fulcio);
    });

    it('refuses with invalid_request when keyless is not configured', () => {
      const registry = new StaticKeySignerRegistry({ signers: [primary], defaultKeyId: 'primary' });
      expect(() => registry.resolve('keyless', undefined)).toThrow(
        expect.objectContaining({
          code: 'invalid_request',
          message: 'signing mode "keyless" is not configured',
        }),
      );
    });

    it('refuses a kms key id instead of ignoring it', () => {
      const registry = new StaticKeySignerRegistry({ signers: [primary, fulcio], defaultKeyId: 'primary' });
      expect(() => registry.resolve('keyless', 'primary')).toThrow(
        expect.objectContaining({ code: 'invalid_request' }),
      );
    });
  });

  describe('when the mode is not one of the contract modes', () => {
    it('refuses with invalid_request', () => {
      const registry = new StaticKeySignerRegistry({ signers: [primary], defaultKeyId: 'primary' });
      expect(() => registry.resolve('hsm' as SigningMode, undefined)).toThrow(
        expect.objectContaining({ code: 'invalid_request' }),
      );
    });
  });

  describe('when the configuration is inconsistent', () => {
    it('refuses a default that is not a configured kms key', () => {
      expect(
        () => new StaticKeySignerRegistry({ signers: [primary, fulcio], defaultKeyId: 'fulcio' }),
      ).toThrow(KeyConfigError);
    });

    it('refuses a key id configured twice', () => {
      expect(() => new StaticKeySignerRegistry({ signers: [primary, fakeSigner('primary', 'kms')] })).toThrow(
        /configured twice/,
      );
    });

    it('refuses two keyless signers', () => {
      expect(
        () => new StaticKeySignerRegistry({ signers: [fulcio, fakeSigner('fulcio-2', 'keyless')] }),
      ).toThrow(KeyConfigError);
    });
  });

  describe('when listing signers', () => {
    it('returns every configured signer for GET /keys', () => {
      const registry = new StaticKeySignerRegistry({ signers: [primary, fulcio], defaultKeyId: 'primary' });
      expect(registry.all()).toEqual([primary, fulcio]);
    });
  });
});
