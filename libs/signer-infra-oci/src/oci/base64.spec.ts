import { describe, expect, it } from '@jest/globals';
import { decodeBase64 } from './base64';

describe('decodeBase64', () => {
  describe('when given canonical standard or unpadded URL-safe base64', () => {
    it.each([
      ['AQID', [1, 2, 3]],
      ['+/8=', [0xfb, 0xff]],
      ['-_8', [0xfb, 0xff]],
      ['', []],
    ])('decodes %p', (value, bytes) => {
      expect(decodeBase64(value)).toEqual(Buffer.from(bytes));
    });
  });

  describe('when the text is not canonical base64', () => {
    it.each([['AQID!'], ['AQ ID'], ['QR=='], ['A'], [42], [null]])('refuses %p', (value) => {
      expect(decodeBase64(value)).toBeUndefined();
    });
  });
});
