import { validateConfig } from './load-config';
import { minimalConfig } from './minimal-config.fixture';

const base = (authority: Record<string, unknown>, server: Record<string, unknown> = {}) =>
  minimalConfig({ server, authority: { issuer: 'https://authority.example', ...authority } });

describe('authority and server.tls configuration', () => {
  describe('when the keys are remote', () => {
    it('accepts jwksUri and applies the fetch and token-cache defaults', () => {
      const config = validateConfig(base({ jwksUri: 'https://authority.example/jwks.json' }), '/etc/signer');
      expect(config.authority.jwksFetch).toEqual({
        refreshSeconds: 300,
        cooldownSeconds: 30,
        timeoutMs: 3000,
        maxStaleSeconds: 3600,
      });
      expect(config.authority.tokenCache).toEqual({ maxEntries: 10000, maxTtlSeconds: 300 });
      expect(config.authority.maxTokenLifetimeSeconds).toBe(86400);
    });
    it('accepts neither jwksUri nor jwksFile: OIDC discovery on an https issuer', () => {
      expect(validateConfig(base({}), '/etc/signer').authority.jwksUri).toBeUndefined();
    });
    it('accepts plain http on loopback only (a dev Authority)', () => {
      expect(() => validateConfig(base({ jwksUri: 'http://127.0.0.1:9000/jwks.json' }), '/')).not.toThrow();
    });
    it.each([
      [
        'a plain-http jwksUri',
        { jwksUri: 'http://authority.example/jwks.json' },
        /authority\.jwksUri: expected https/,
      ],
      [
        'discovery on a plain-http issuer',
        { issuer: 'http://authority.example' },
        /OIDC discovery \(issuer: expected https/,
      ],
      [
        'credentials in the URL',
        { jwksUri: 'https://u:p@authority.example/jwks' },
        /expected no credentials/,
      ],
      [
        'maxStaleSeconds below refreshSeconds',
        { jwksUri: 'https://a.example/jwks', jwksFetch: { refreshSeconds: 600, maxStaleSeconds: 60 } },
        /maxStaleSeconds: expected at least refreshSeconds/,
      ],
      [
        'a maxTokenLifetimeSeconds below a minute',
        { jwksUri: 'https://a.example/jwks', maxTokenLifetimeSeconds: 59 },
        /authority\.maxTokenLifetimeSeconds/,
      ],
      [
        'an unknown jwksFetch key',
        { jwksUri: 'https://a.example/jwks', jwksFetch: { ttl: 1 } },
        /jwksFetch\.ttl: unknown key/,
      ],
    ])('refuses %s', (_name, authority, message) => {
      expect(() => validateConfig(base(authority), '/')).toThrow(message);
    });
  });

  describe('when server.tls is set', () => {
    it('accepts it (HTTPS; mTLS with clientCaFile) and resolves its files against the config folder', () => {
      const config = validateConfig(
        base(
          { jwksFile: 'jwks.json', senderConstraint: 'mtls' },
          { tls: { certFile: 'tls/server.pem', keyFile: 'tls/server.key', clientCaFile: 'tls/ca.pem' } },
        ),
        '/etc/signer',
      );
      expect(config.server.tls).toEqual({
        certFile: '/etc/signer/tls/server.pem',
        keyFile: '/etc/signer/tls/server.key',
        clientCaFile: '/etc/signer/tls/ca.pem',
      });
    });
    it('refuses senderConstraint mtls without a clientCaFile', () => {
      expect(() =>
        validateConfig(
          base({ jwksFile: 'jwks.json', senderConstraint: 'mtls' }, { tls: { certFile: 'a', keyFile: 'b' } }),
          '/',
        ),
      ).toThrow(/server\.tls\.clientCaFile: required/);
    });
  });
});
