import { randomBytes } from 'node:crypto';
import { crc32cReference } from '@signer/testing';
import { crc32c } from './crc32c';

describe('crc32c', () => {
  describe('when given the RFC 3720 check values', () => {
    it.each([
      ['123456789', 0xe3069283],
      ['', 0],
    ])('computes CRC-32C(%j)', (text, expected) => {
      expect(crc32c(Buffer.from(text))).toBe(expected);
    });

    it('computes the 32 zero bytes vector (RFC 3720 B.4)', () => {
      expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa);
    });
  });

  describe('when given arbitrary data', () => {
    it('agrees with the bit-by-bit reference', () => {
      for (let i = 0; i < 50; i++) {
        const data = randomBytes(i * 7);
        expect(crc32c(data)).toBe(crc32cReference(data));
      }
    });
  });
});
