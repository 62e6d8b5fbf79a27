import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { applyEnvOverrides, ConfigError, loadConfig, validateConfig } from './load-config';
import { minimalConfig } from './minimal-config.fixture';

const minimal = () => minimalConfig();

/** A config folder: `text` as signer.yaml, plus the start-up files `minimal()` names. */
function configFolder(text = stringify(minimal())): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'signer-config-'));
  for (const name of ['jwks.json', 'licensing.json', 'keys.pem', 'key.pem'])
    writeFileSync(join(dir, name), '');
  writeFileSync(join(dir, 'signer.yaml'), text);
  return { dir, file: join(dir, 'signer.yaml') };
}

const refusal = (load: () => unknown): string => {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
};

describe('loadConfig', () => {
  describe('when the file is valid', () => {
    it('applies defaults and resolves paths against the config folder', () => {
      const { dir, file } = configFolder();
      const config = loadConfig(file, {});
      expect(config.server).toMatchObject({
        host: '127.0.0.1',
        port: 8080,
        bodyLimitBytes: 1048576,
        readinessCacheMs: 5000,
        adminHost: '127.0.0.1',
      });
      expect(config.server.adminPort).toBeUndefined();
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
      const { file } = configFolder();
      const config = loadConfig(file, {
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

  describe('when a value is not one the schema allows', () => {
    it('names the key and the allowed values of an enum, not the union mechanics', () => {
      const message = refusal(() =>
        validateConfig({ ...minimal(), authority: { ...minimal().authority, senderConstraint: 'dpopp' } }),
      );
      expect(message).toContain('authority.senderConstraint: expected one of "dpop", "mtls", "either"');
      expect(message).not.toMatch(/constant|anyOf|dpopp/);
    });
    it('names a bad entry of a list by its index, with the allowed values', () => {
      const message = refusal(() =>
        validateConfig({
          ...minimal(),
          authority: { ...minimal().authority, allowedAlgorithms: ['ES256', 'HS256'] },
        }),
      );
      expect(message).toContain(
        'authority.allowedAlgorithms[1]: expected one of "ES256", "ES384", "EdDSA", "PS256"',
      );
      expect(message).not.toContain('HS256');
    });
    it('gives the expected form of a number, and never the value', () => {
      const message = refusal(() => validateConfig({ ...minimal(), server: { port: 'eighty' } }));
      expect(message).toContain('server.port: expected an integer from 0 to 65535');
      expect(message).not.toContain('eighty');
    });
    it('describes each shape a union of mappings accepts, without echoing the credential', () => {
      const releaseIntegrity = {
        ...minimal().releaseIntegrity,
        registryUrl: 'https://registry.example',
        ociLayoutPath: undefined,
        registryAuth: { 'registry.example': { username: 'robot', pasword: 'hunter2-secret' } },
      };
      const message = refusal(() => validateConfig({ ...minimal(), releaseIntegrity }));
      expect(message).toContain(
        'releaseIntegrity.registryAuth.registry.example: expected a mapping with username and password, or a mapping with token',
      );
      expect(message).not.toMatch(/hunter2|robot/);
    });
    it('lists the known keys next to an unknown one', () => {
      const message = refusal(() => validateConfig({ ...minimal(), server: { prot: 1 } }));
      expect(message).toMatch(/server\.prot: unknown key \(known keys: host, port, .*adminPort, adminHost/);
    });
  });

  describe('when the file says where a bad key is', () => {
    it('gives the line and column of the key in the file', () => {
      const { file } = configFolder(
        stringify({ ...minimal(), authority: { ...minimal().authority, senderConstraint: 'x' } }),
      );
      const message = refusal(() => loadConfig(file, {}));
      expect(message).toContain(`invalid configuration ${file}:`);
      expect(message).toMatch(/authority\.senderConstraint: expected one of .* \(line 4, column 3\)/);
    });
    it('names the environment variable that set a bad key', () => {
      const { file } = configFolder();
      const message = refusal(() => loadConfig(file, { SIGNER__SERVER__READINESSCACHEMS: '-1' }));
      expect(message).toContain(
        'server.readinessCacheMs: expected an integer from 0 to 60000 (from SIGNER__SERVER__READINESSCACHEMS)',
      );
    });
  });

  describe('when a file the Signer reads at start-up is missing', () => {
    it('names the key, the resolved path and why, with the position of the key', () => {
      const { dir, file } = configFolder();
      mkdirSync(join(dir, 'sub'));
      const message = refusal(() =>
        loadConfig(file, { SIGNER__RELEASEINTEGRITY__TRUSTEDKEYSFILES: '[keys.pem, sub, gone.pem]' }),
      );
      expect(message).toContain(
        `releaseIntegrity.trustedKeysFiles[1]: cannot read ${join(dir, 'sub')} (not a regular file)`,
      );
      expect(message).toContain(
        `releaseIntegrity.trustedKeysFiles[2]: cannot read ${join(dir, 'gone.pem')} (no such file) (from SIGNER__RELEASEINTEGRITY__TRUSTEDKEYSFILES)`,
      );
      expect(message).not.toContain('trustedKeysFiles[0]');
    });
    it('names a missing jwksFile', () => {
      const { dir, file } = configFolder();
      const message = refusal(() => loadConfig(file, { SIGNER__AUTHORITY__JWKSFILE: 'nope.json' }));
      expect(message).toContain(`authority.jwksFile: cannot read ${join(dir, 'nope.json')} (no such file)`);
    });
  });

  describe('when the YAML does not parse', () => {
    const broken = [
      'server:',
      '  port: 8080',
      'releaseIntegrity:',
      '  registryAuth:',
      '    registry.example: { username: robot, password: "hunter2-s3cret\\q" }',
      '  scannerRepository: [registry.example/scanner',
      '',
    ].join('\n');

    it('names the file, line and column, and shows none of the text', () => {
      const { file } = configFolder(broken);
      const message = refusal(() => loadConfig(file, {}));
      expect(message).toMatch(
        new RegExp(`^configuration ${file} line 5, column \\d+: YAML syntax error \\(`),
      );
      expect(message).not.toMatch(/hunter2|robot|registry\.example/);
    });
    it('names a SIGNER__ variable whose value does not parse, without the value', () => {
      const { file } = configFolder();
      const message = refusal(() =>
        loadConfig(file, { SIGNER__AUDIT__POSTGRESURL: '{postgres://signer:s3cret-pw@db/x' }),
      );
      expect(message).toMatch(/^SIGNER__AUDIT__POSTGRESURL \(column \d+\): YAML syntax error/);
      expect(message).not.toContain('s3cret-pw');
    });
  });
});
