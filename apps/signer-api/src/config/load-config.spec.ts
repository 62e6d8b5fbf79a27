import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { applyEnvOverrides, ConfigError, loadConfig, validateConfig } from './load-config';

const minimal = () => ({
  authority: { issuer: 'https://authority.example', jwksFile: 'jwks.json' },
  licensing: { offlineJwksFile: 'licensing.json' },
  releaseIntegrity: {
    scannerRepository: 'registry.example/scanner',
    ociLayoutPath: 'layout',
    trustedKeysFiles: ['keys.pem'],
  },
  quotas: { plans: { pro: { qps: 10, burst: 10, concurrency: 2, maxArtifactBytes: 1000, dailyCap: 10 } } },
  signing: { keys: { default: { ref: 'file://key.pem' } } },
  predicates: { allowed: ['p/1'] },
  audit: { filePath: 'audit.jsonl' },
});

describe('loadConfig', () => {
  describe('when the file is valid', () => {
    it('applies defaults and resolves paths against the config folder', () => {
      const dir = mkdtempSync(join(tmpdir(), 'signer-config-'));
      writeFileSync(join(dir, 'signer.yaml'), stringify(minimal()));
      const config = loadConfig(join(dir, 'signer.yaml'), {});
      expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8080, bodyLimitBytes: 1048576 });
      expect(config.authority).toMatchObject({
        audience: 'signer',
        requiredScope: 'signer.sign',
        clockSkewSeconds: 30,
        senderConstraint: 'either',
      });
      expect(config.authority.dpop).toEqual({ nonce: 'required', nonceTtlSeconds: 300 });
      expect(config.authority.jwksFile).toBe(join(dir, 'jwks.json'));
      expect(config.signing.keys['default'].ref).toBe(`file://${join(dir, 'key.pem')}`);
      expect(config.quotas.store).toBe('memory');
    });
  });

  describe('when environment overrides are set', () => {
    it('overrides any key, matching camelCase names case-insensitively and parsing scalars', () => {
      const dir = mkdtempSync(join(tmpdir(), 'signer-config-'));
      writeFileSync(join(dir, 'signer.yaml'), stringify(minimal()));
      const config = loadConfig(join(dir, 'signer.yaml'), {
        SIGNER__SERVER__PORT: '9000',
        SIGNER__SERVER__PUBLICBASEURL: 'https://signer.example',
        SIGNER__QUOTAS__PLANS__PRO__QPS: '2.5',
        SIGNER__AUTHORITY__DPOP__NONCE: 'optional',
        SIGNER__PREDICATES__ALLOWED: '[a/1, b/2]',
      });
      expect(config.server.port).toBe(9000);
      expect(config.server.publicBaseUrl).toBe('https://signer.example');
      expect(config.quotas.plans['pro'].qps).toBe(2.5);
      expect(config.authority.dpop.nonce).toBe('optional');
      expect(config.predicates.allowed).toEqual(['a/1', 'b/2']);
    });
    it('creates new map entries in lower case (a plan that only the environment names)', () => {
      const merged = applyEnvOverrides(minimal(), { SIGNER__QUOTAS__PLANS__TEAM__QPS: '1' }) as {
        quotas: { plans: Record<string, unknown> };
      };
      expect(merged.quotas.plans['team']).toEqual({ qps: 1 });
    });
  });

  describe('when the configuration is wrong', () => {
    const expectRefused = (raw: unknown, pattern: RegExp) =>
      expect(() => validateConfig(raw, '/tmp')).toThrow(pattern);

    it('names an unknown key', () => {
      expectRefused({ ...minimal(), server: { prot: 1 } }, /server\.prot: unknown key/);
    });
    it('names a missing required key', () => {
      const { predicates: _predicates, ...rest } = minimal();
      expectRefused(rest, /predicates: required/);
    });
    it('names a bad value', () => {
      expectRefused({ ...minimal(), server: { port: 'eighty' } }, /server\.port/);
    });
    it('refuses both or neither of jwksUri and jwksFile', () => {
      expectRefused(
        { ...minimal(), authority: { issuer: 'x' } },
        /authority: set exactly one of jwksUri or jwksFile/,
      );
    });
    it('refuses a key reference with an unknown scheme', () => {
      expectRefused(
        { ...minimal(), signing: { keys: { default: { ref: 'pkcs11://slot' } } } },
        /signing\.keys\.default\.ref/,
      );
    });
    it('refuses an empty trusted-keys list (no way to switch the release gate off)', () => {
      expectRefused(
        { ...minimal(), releaseIntegrity: { ...minimal().releaseIntegrity, trustedKeysFiles: [] } },
        /releaseIntegrity\.trustedKeysFiles/,
      );
    });
    it('throws a ConfigError when no file is named', () => {
      expect(() => loadConfig(undefined, {})).toThrow(ConfigError);
    });
  });
});
