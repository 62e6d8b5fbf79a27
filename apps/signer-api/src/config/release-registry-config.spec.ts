import { applyEnvOverrides, validateConfig } from './load-config';
import { minimalConfig } from './minimal-config.fixture';

const registryConfig = (releaseIntegrity: Record<string, unknown> = {}) =>
  minimalConfig({
    releaseIntegrity: {
      scannerRepository: 'registry.example:5000/stella-ops/scanner',
      registryUrl: 'https://registry.example:5000',
      trustedKeysFiles: ['keys.pem'],
      ...releaseIntegrity,
    },
  });

describe('release registry configuration', () => {
  describe('when registryUrl, credentials per host and limits are set', () => {
    it('is accepted, with the limit defaults', () => {
      const config = validateConfig(
        registryConfig({ registryAuth: { 'registry.example:5000': { username: 'signer', password: 'pw' } } }),
        '/tmp',
      );
      expect(config.releaseIntegrity).toMatchObject({
        registryUrl: 'https://registry.example:5000',
        registryAuth: { 'registry.example:5000': { username: 'signer', password: 'pw' } },
        maxManifestBytes: 4194304,
        maxLayerBytes: 1048576,
        timeoutMs: 3000,
      });
    });

    it('takes the credentials from the environment too', () => {
      const raw = applyEnvOverrides(registryConfig(), {
        SIGNER__RELEASEINTEGRITY__REGISTRYAUTH: '{"registry.example:5000": {"token": "t0ken"}}',
      });
      expect(validateConfig(raw, '/tmp').releaseIntegrity.registryAuth).toEqual({
        'registry.example:5000': { token: 't0ken' },
      });
    });
  });

  describe('when the registry settings are wrong', () => {
    it.each<[string, Record<string, unknown>, RegExp]>([
      [
        'a URL with a path',
        { registryUrl: 'https://registry.example/v2' },
        /registryUrl: expected scheme, host and port only/,
      ],
      [
        'credentials in the URL',
        { registryUrl: 'https://u:p@registry.example' },
        /registryUrl: expected no credentials/,
      ],
      ['another scheme', { registryUrl: 'ftp://registry.example' }, /registryUrl: expected https:\/\//],
      [
        'plain http to a named host',
        { registryUrl: 'http://registry.example:5000' },
        /registryUrl: expected https:\/\/ \(plain http only on a loopback host\)/,
      ],
      [
        'credentials for a host that is not the registry',
        { registryAuth: { 'registry.example': { token: 't' } } },
        /registryAuth\.registry\.example: matches no registry \(registryUrl host is registry\.example:5000\)/,
      ],
      [
        'a credential with both a password and a token',
        { registryAuth: { 'registry.example:5000': { username: 'u', password: 'p', token: 't' } } },
        /registryAuth/,
      ],
      [
        'a scanner repository with a tag',
        { scannerRepository: 'registry.example/scanner:1.0' },
        /scannerRepository/,
      ],
      ['a tiny manifest limit', { maxManifestBytes: 10 }, /maxManifestBytes/],
      [
        'both registryUrl and ociLayoutPath',
        { ociLayoutPath: 'layout' },
        /set exactly one of registryUrl or ociLayoutPath/,
      ],
    ])('refuses to start: %s', (_label, releaseIntegrity, pattern) => {
      expect(() => validateConfig(registryConfig(releaseIntegrity), '/tmp')).toThrow(pattern);
    });

    it('refuses credentials without a registry', () => {
      const raw = registryConfig({
        registryUrl: undefined,
        ociLayoutPath: 'layout',
        registryAuth: { 'r.example': { token: 't' } },
      });
      expect(() => validateConfig(raw, '/tmp')).toThrow(/registryAuth: only used with a valid registryUrl/);
    });
  });
});
