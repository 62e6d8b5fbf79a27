import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { bundleToJSON, toDSSEBundle } from '@sigstore/bundle';
import { pae } from './dsse';
import { verifySigstoreBundleWithKey } from './verify-sigstore-bundle';

const payloadType = 'application/vnd.in-toto+json';
const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
const spkiPem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();

// Built with the public @sigstore/bundle builder, so these tests do not depend on the server's encoder.
function keyedBundle(privateKey: KeyObject, digest: string | null, keyHint: string, body = payload): unknown {
  const signature = sign(digest, pae(payloadType, body), privateKey);
  return bundleToJSON(toDSSEBundle({ artifact: body, artifactType: payloadType, signature, keyHint }));
}

const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const ed25519 = generateKeyPairSync('ed25519');

describe('verifySigstoreBundleWithKey', () => {
  describe('when the bundle is signed by the key trusted under its hint', () => {
    it.each([
      ['ECDSA P-256', p256, 'sha256'],
      ['Ed25519', ed25519, null],
    ])('resolves for %s', async (_label, pair, digest) => {
      const bundle = keyedBundle(pair.privateKey, digest, 'dev');
      await expect(
        verifySigstoreBundleWithKey(bundle, { keyHint: 'dev', publicKeyPem: spkiPem(pair.publicKey) }),
      ).resolves.toBeUndefined();
    });
  });

  describe('when the signature does not match', () => {
    it('rejects with verification_failed for another key under the same hint', async () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      await expect(
        verifySigstoreBundleWithKey(keyedBundle(p256.privateKey, 'sha256', 'dev'), {
          keyHint: 'dev',
          publicKeyPem: spkiPem(other.publicKey),
        }),
      ).rejects.toMatchObject({ code: 'verification_failed' });
    });

    it('rejects with verification_failed for a tampered payload', async () => {
      const bundle = keyedBundle(p256.privateKey, 'sha256', 'dev') as { dsseEnvelope: { payload: string } };
      bundle.dsseEnvelope.payload = Buffer.from('{"_type":"forged"}').toString('base64');
      await expect(
        verifySigstoreBundleWithKey(bundle, { keyHint: 'dev', publicKeyPem: spkiPem(p256.publicKey) }),
      ).rejects.toMatchObject({ code: 'verification_failed' });
    });
  });

  describe('when the bundle names other verification material', () => {
    it('rejects with key_mismatch for a different hint', async () => {
      await expect(
        verifySigstoreBundleWithKey(keyedBundle(p256.privateKey, 'sha256', 'other'), {
          keyHint: 'dev',
          publicKeyPem: spkiPem(p256.publicKey),
        }),
      ).rejects.toMatchObject({ code: 'key_mismatch' });
    });

    it('rejects with key_mismatch for a certificate bundle', async () => {
      const signature = sign('sha256', pae(payloadType, payload), p256.privateKey);
      // The certificate is never parsed: the material kind alone is refused.
      const certificate = Buffer.from('not parsed');
      const bundle = bundleToJSON(
        toDSSEBundle({ artifact: payload, artifactType: payloadType, signature, certificate }),
      );
      await expect(
        verifySigstoreBundleWithKey(bundle, { keyHint: 'dev', publicKeyPem: spkiPem(p256.publicKey) }),
      ).rejects.toMatchObject({ code: 'key_mismatch' });
    });
  });

  describe('when the input is not a usable bundle or key', () => {
    it('rejects with invalid_bundle for a JSON object that is not a bundle', async () => {
      await expect(
        verifySigstoreBundleWithKey(
          { hello: 'world' },
          { keyHint: 'dev', publicKeyPem: spkiPem(p256.publicKey) },
        ),
      ).rejects.toMatchObject({ code: 'invalid_bundle' });
    });

    it.each([
      ['P-384', generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey],
      ['RSA', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey],
    ])('rejects with unsupported_key for a %s key', async (_label, publicKey) => {
      await expect(
        verifySigstoreBundleWithKey(keyedBundle(p256.privateKey, 'sha256', 'dev'), {
          keyHint: 'dev',
          publicKeyPem: spkiPem(publicKey),
        }),
      ).rejects.toMatchObject({ code: 'unsupported_key' });
    });
  });
});
