import { KeyConfigError } from '../errors';
import { parseServiceEndpoint } from './endpoint';

describe('parseServiceEndpoint', () => {
  describe('when the URL is a base URL', () => {
    it.each([
      [
        'https://kms.eu-west-1.amazonaws.com',
        { protocol: 'https', host: 'kms.eu-west-1.amazonaws.com', port: 443, loopback: false },
      ],
      [
        'https://private.kms.internal:8443/',
        { protocol: 'https', host: 'private.kms.internal', port: 8443, loopback: false },
      ],
      ['http://127.0.0.1:4566', { protocol: 'http', host: '127.0.0.1', port: 4566, loopback: true }],
      ['http://localhost:9011', { protocol: 'http', host: 'localhost', port: 9011, loopback: true }],
      ['http://[::1]:9011', { protocol: 'http', host: '[::1]', port: 9011, loopback: true }],
    ])('parses %s', (url, expected) => {
      expect(parseServiceEndpoint('k.endpoint', url)).toMatchObject(expected);
    });
  });

  describe('when the URL would leak credentials or is not a base URL', () => {
    it.each([
      ['http://kms.internal:8080', /plain http:\/\/ is only allowed for a loopback host/],
      ['https://kms.example/v1', /no path, query or credentials/],
      ['https://user:pw@kms.example', /no path, query or credentials/],
      ['https://kms.example?x=1', /no path, query or credentials/],
      ['grpc://kms.example:443', /expected an http\(s\):\/\/ base URL/],
      ['kms.example:443', /expected an http\(s\):\/\/ base URL/],
      ['not a url', /is not a URL/],
    ])('refuses %s, naming the setting', (url, message) => {
      expect(() => parseServiceEndpoint('signing.keys.k.endpoint', url)).toThrow(KeyConfigError);
      expect(() => parseServiceEndpoint('signing.keys.k.endpoint', url)).toThrow(message);
    });
  });

  describe('when the value is not a URL at all', () => {
    it('names the setting, never the value (it may be a secret pasted in the wrong place)', () => {
      const value = 'hunter2-not-an-endpoint';
      let error: unknown;
      try {
        parseServiceEndpoint('signing.keys.k.endpoint', value);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(KeyConfigError);
      expect((error as KeyConfigError).message).toBe('signing.keys.k.endpoint is not a URL');
      expect((error as KeyConfigError).cause).toBeUndefined();
    });
  });
});
