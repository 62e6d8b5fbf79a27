import { isCanonicalCompactJws } from './compact-jws';

const canonical = (bytes: number[]) => Buffer.from(bytes).toString('base64url');

describe('isCanonicalCompactJws', () => {
  const header = canonical([123, 34, 97, 34, 125]);
  const signature = canonical([1, 2, 3, 4]); // "AQIDBA": 2 spare bits at the end

  describe('when given one canonical compact JWS', () => {
    it('accepts it', () => {
      expect(isCanonicalCompactJws(`${header}.${header}.${signature}`)).toBe(true);
    });
  });

  describe('when the value is not canonical', () => {
    it.each([
      ['non-zero spare bits in the last character', `${header}.${header}.AQIDBB`],
      ['padding', `${header}.${header}.${signature}==`],
      ['standard base64 characters', `${header}.${header}.AQ+/BA`],
      ['an impossible length', `${header}.${header}.AQIDB`],
      ['an empty signature (alg none)', `${header}.${header}.`],
      ['two segments', `${header}.${header}`],
      ['four segments', `${header}.${header}.${signature}.${signature}`],
      ['whitespace', `${header}.${header}.${signature} `],
    ])('refuses %s', (_name, value) => {
      expect(isCanonicalCompactJws(value)).toBe(false);
    });
  });
});
