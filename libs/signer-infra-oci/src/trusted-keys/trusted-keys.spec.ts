import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignerError } from '@signer/core';
import { generateReleaseKey, writePublicKeysFile } from '@signer/dev';
import { loadTrustedKeys, parseTrustedKeys } from './trusted-keys';

function spkiKeyId(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

describe('loadTrustedKeys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'trusted-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('when a file holds several PUBLIC KEY blocks of every supported kind', () => {
    it('returns one key per block with its algorithm and SPKI key id', async () => {
      const keys = (['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa'] as const).map((kind) =>
        generateReleaseKey(kind),
      );
      const loaded = await loadTrustedKeys([writePublicKeysFile(join(dir, 'keys.pem'), keys)]);
      expect(loaded.map((k) => k.algorithm)).toEqual([
        'ecdsa-p256-sha256',
        'ecdsa-p384-sha384',
        'ed25519',
        'rsa-pkcs1v15-sha256',
      ]);
      expect(loaded.map((k) => k.keyId)).toEqual(keys.map((k) => spkiKeyId(k.publicKeyPem)));
    });
  });

  describe('when the same key appears in two files', () => {
    it('returns it once', async () => {
      const key = generateReleaseKey();
      const files = [
        writePublicKeysFile(join(dir, 'a.pem'), [key]),
        writePublicKeysFile(join(dir, 'b.pem'), [key]),
      ];
      expect(await loadTrustedKeys(files)).toHaveLength(1);
    });
  });

  describe('when the PEM is re-wrapped', () => {
    it('keeps the same key id', () => {
      const key = generateReleaseKey();
      const body = key.publicKeyPem.replace(/-----[A-Z ]+-----|\s/g, '');
      const rewrapped = `junk before\n-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----\n`;
      expect(parseTrustedKeys(rewrapped, 'test')[0].keyId).toBe(
        parseTrustedKeys(key.publicKeyPem, 'test')[0].keyId,
      );
    });
  });

  describe('when a file cannot be used', () => {
    const privateKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const pemOf = (pair: {
      publicKey: { export: (o: { type: 'spki'; format: 'pem' }) => string | Buffer };
    }) => pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    it.each([
      ['holds no PEM block', 'not a key'],
      ['holds a private key', privateKeyPem],
      ['holds a P-521 key', pemOf(generateKeyPairSync('ec', { namedCurve: 'P-521' }))],
      ['holds a 1024-bit RSA key', pemOf(generateKeyPairSync('rsa', { modulusLength: 1024 }))],
      ['holds an RSA-PSS key', pemOf(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }))],
      ['holds a damaged block', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'],
    ])('refuses to load: it %s', async (_label, content) => {
      const file = join(dir, 'bad.pem');
      writeFileSync(file, content);
      await expect(loadTrustedKeys([file])).rejects.toThrow(SignerError);
      await expect(loadTrustedKeys([file])).rejects.toMatchObject({ code: 'internal_error' });
    });

    it('refuses to load a missing file', async () => {
      await expect(loadTrustedKeys([join(dir, 'absent.pem')])).rejects.toMatchObject({
        code: 'internal_error',
      });
    });
  });
});
