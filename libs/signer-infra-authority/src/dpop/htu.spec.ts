import { normalizeHtu } from './htu';

describe('normalizeHtu', () => {
  describe('when given equivalent spellings', () => {
    it.each([
      ['https://a.example/x?q=1#f', 'https://a.example/x'],
      ['HTTPS://A.EXAMPLE:443/x', 'https://a.example/x'],
      ['http://a.example:80/x', 'http://a.example/x'],
      ['http://127.0.0.1:8080/api', 'http://127.0.0.1:8080/api'],
    ])('normalizes %s to %s', (input, expected) => {
      expect(normalizeHtu(input)).toBe(expected);
    });
  });

  describe('when given something that is not an http(s) URL', () => {
    it.each([['ftp://a/x'], ['/relative'], ['https://user:pw@a.example/x'], ['not a url']])(
      'returns null for %s',
      (input) => {
        expect(normalizeHtu(input)).toBeNull();
      },
    );
  });
});
