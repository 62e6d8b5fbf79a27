import { ConfigError, validateConfig } from './load-config';
import { minimalConfig } from './minimal-config.fixture';

const base = (licensing: Record<string, unknown>) => minimalConfig({ licensing });

describe('licensing configuration', () => {
  describe('when introspectUrl is https, or plain http on loopback', () => {
    it.each([
      'https://licensing.example/api/v1/licensing/introspect',
      'http://127.0.0.1:9000/introspect',
      'http://localhost:9000/introspect',
      'http://[::1]:9000/introspect',
    ])('accepts %s', (introspectUrl) => {
      expect(validateConfig(base({ introspectUrl }), '/etc/signer').licensing.introspectUrl).toBe(
        introspectUrl,
      );
    });
  });

  describe('when introspectUrl would send the PoE in clear, or carries credentials', () => {
    it.each([
      ['plain http to a named host', 'http://licensing.example/introspect', /expected https/],
      ['plain http to a private address', 'http://10.0.0.7:8080/introspect', /expected https/],
      ['credentials in the URL', 'https://u:p@licensing.example/introspect', /expected no credentials/],
      ['not a URL', 'licensing.example/introspect', /expected an absolute URL/],
    ])('refuses %s with a ConfigError naming licensing.introspectUrl', (_name, introspectUrl, reason) => {
      let refusal: unknown;
      try {
        validateConfig(base({ introspectUrl }), '/etc/signer');
      } catch (error) {
        refusal = error;
      }
      expect(refusal).toBeInstanceOf(ConfigError);
      expect((refusal as Error).message).toMatch('licensing.introspectUrl: ');
      expect((refusal as Error).message).toMatch(reason);
    });
  });

  describe('when the offline PoE issuer and audience are pinned', () => {
    it('leaves them unset by default (not checked)', () => {
      const { licensing } = validateConfig(base({ offlineJwksFile: 'licensing.json' }), '/etc/signer');
      expect(licensing.offlineIssuer).toBeUndefined();
      expect(licensing.offlineAudience).toBeUndefined();
    });
    it('accepts them with offlineJwksFile', () => {
      const config = validateConfig(
        base({
          offlineJwksFile: 'l.json',
          offlineIssuer: 'https://licensing.example',
          offlineAudience: 'signer',
        }),
        '/etc/signer',
      );
      expect(config.licensing).toMatchObject({
        offlineIssuer: 'https://licensing.example',
        offlineAudience: 'signer',
      });
    });
    it.each(['offlineIssuer', 'offlineAudience'])('refuses %s with online Licensing', (key) => {
      expect(() =>
        validateConfig(base({ introspectUrl: 'https://licensing.example/i', [key]: 'x' }), '/etc/signer'),
      ).toThrow(`licensing.${key}: only used with offlineJwksFile`);
    });
  });
});
