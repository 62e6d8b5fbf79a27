import { createPublicKey, verify } from 'node:crypto';
import { generateTestKey, pkcs8Pem, tempKeyDir, type TestKeyKind } from '../../test/key-files';
import { KeyConfigError } from '../errors';
import { FileKeySigner } from './file-key-signer';

describe('FileKeySigner', () => {
  const keys = tempKeyDir();
  afterAll(() => keys.cleanup());
  const data = Buffer.from('DSSEv1 4 type 5 hello');

  describe('when loaded from an ECDSA P-256 PKCS#8 file', () => {
    const { privateKey, publicKey } = generateTestKey('p256');
    const path = keys.write('p256.pem', pkcs8Pem(privateKey));

    it('signs with ES256 in ASN.1 DER that node:crypto verifies', async () => {
      const signer = await FileKeySigner.fromFile({ keyId: 'dev', path });
      const result = await signer.sign(data);
      expect(signer.algorithm).toBe('ES256');
      expect(result.signature[0]).toBe(0x30); // DER SEQUENCE, not IEEE P1363 r||s
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, result.signature)).toBe(true);
    });

    it('names the key in the DSSE keyid and the identity, and publishes the SPKI PEM', async () => {
      const signer = await FileKeySigner.fromFile({ keyId: 'dev', path });
      const result = await signer.sign(data);
      const spki = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      expect(result).toMatchObject({ dsseKeyId: 'dev', identity: { keyId: 'dev' }, publicKeyPem: spki });
      expect(result.certificateChain).toBeUndefined();
      expect(signer.mode).toBe('kms');
      await expect(signer.describe()).resolves.toEqual({
        keyId: 'dev',
        algorithm: 'ES256',
        publicKeyPem: spki,
      });
    });
  });

  describe('when loaded from an Ed25519 PKCS#8 file', () => {
    const { privateKey, publicKey } = generateTestKey('ed25519');
    const path = keys.write('ed25519.pem', pkcs8Pem(privateKey));

    it('signs raw 64-byte EdDSA signatures that node:crypto verifies', async () => {
      const signer = await FileKeySigner.fromFile({ keyId: 'ed', path });
      const result = await signer.sign(data);
      expect(signer.algorithm).toBe('EdDSA');
      expect(result.signature).toHaveLength(64);
      expect(verify(null, data, publicKey, result.signature)).toBe(true);
      expect(createPublicKey(result.publicKeyPem ?? '').equals(publicKey)).toBe(true);
    });
  });

  describe('when the key is of another type or curve', () => {
    it.each<[TestKeyKind, RegExp]>([
      ['p384', /got ec \(secp384r1\)/],
      ['secp256k1', /got ec \(secp256k1\)/],
      ['rsa', /got rsa/],
    ])('refuses %s at load', async (kind, message) => {
      const path = keys.write(`${kind}.pem`, pkcs8Pem(generateTestKey(kind).privateKey));
      const load = FileKeySigner.fromFile({ keyId: 'k', path });
      await expect(load).rejects.toThrow(KeyConfigError);
      await expect(load).rejects.toThrow(message);
    });

    it('refuses it in the constructor too', () => {
      expect(() => new FileKeySigner({ keyId: 'k', privateKey: generateTestKey('p384').privateKey })).toThrow(
        KeyConfigError,
      );
    });
  });

  describe('when the file is not a private key', () => {
    it('refuses a public key file', async () => {
      const spki = generateTestKey('p256').publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const path = keys.write('public.pem', spki);
      await expect(FileKeySigner.fromFile({ keyId: 'k', path })).rejects.toThrow(/not an unencrypted PKCS#8/);
    });

    it('refuses a public key object in the constructor', () => {
      const { publicKey } = generateTestKey('p256');
      expect(() => new FileKeySigner({ keyId: 'k', privateKey: publicKey })).toThrow(
        /expected a private key/,
      );
    });

    it('refuses a SEC1 "EC PRIVATE KEY" file', async () => {
      const sec1 = generateTestKey('p256').privateKey.export({ type: 'sec1', format: 'pem' }).toString();
      const path = keys.write('sec1.pem', sec1);
      await expect(FileKeySigner.fromFile({ keyId: 'k', path })).rejects.toThrow(KeyConfigError);
    });

    it('refuses garbage under a PKCS#8 label without quoting it', async () => {
      const path = keys.write(
        'garbage.pem',
        '-----BEGIN PRIVATE KEY-----\nc2VjcmV0IGdhcmJhZ2U=\n-----END PRIVATE KEY-----\n',
      );
      const load = FileKeySigner.fromFile({ keyId: 'k', path });
      await expect(load).rejects.toThrow(/does not parse as a private key/);
      await expect(load).rejects.not.toThrow(/c2VjcmV0/);
    });

    it('refuses a missing file, naming the path', async () => {
      await expect(FileKeySigner.fromFile({ keyId: 'k', path: '/nonexistent/key.pem' })).rejects.toThrow(
        /cannot read \/nonexistent\/key.pem/,
      );
    });
  });
});
