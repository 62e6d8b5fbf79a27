import { describe, expect, it } from '@jest/globals';
import { sign } from 'node:crypto';
import { generateReleaseKey, signWithReleaseKey, type ReleaseKeyKind } from '@signer/dev';
import { findSigningKey } from './signature-check';
import { parseTrustedKeys } from './trusted-keys';

const payload = Buffer.from('{"critical":{}}');

describe('findSigningKey', () => {
  describe.each<ReleaseKeyKind>(['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa'])(
    'when a %s key signed',
    (kind) => {
      const key = generateReleaseKey(kind);
      const other = generateReleaseKey(kind);
      const trusted = [
        ...parseTrustedKeys(other.publicKeyPem, 'other'),
        ...parseTrustedKeys(key.publicKeyPem, 'key'),
      ];

      it('returns that key among the trusted ones', () => {
        expect(findSigningKey(trusted, payload, signWithReleaseKey(key, payload))?.keyId).toBe(
          trusted[1].keyId,
        );
      });

      it('returns nothing for another payload', () => {
        expect(findSigningKey(trusted, Buffer.from('{}'), signWithReleaseKey(key, payload))).toBeUndefined();
      });
    },
  );

  describe('when a P-384 key signed with SHA-256, as cosign did before the algorithm registry', () => {
    it('returns that key', () => {
      const key = generateReleaseKey('ecdsa-p384');
      const trusted = parseTrustedKeys(key.publicKeyPem, 'key');
      expect(findSigningKey(trusted, payload, sign('sha256', payload, key.privateKey))).toBe(trusted[0]);
    });
  });

  describe('when the signature bytes are garbage', () => {
    it('returns nothing instead of throwing', () => {
      const trusted = parseTrustedKeys(generateReleaseKey('ecdsa-p256').publicKeyPem, 'key');
      expect(findSigningKey(trusted, payload, Buffer.from([0x30, 0x02, 0xff]))).toBeUndefined();
      expect(findSigningKey(trusted, payload, Buffer.alloc(0))).toBeUndefined();
    });
  });
});
