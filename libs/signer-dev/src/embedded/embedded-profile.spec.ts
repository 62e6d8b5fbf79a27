import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { parse } from 'yaml';
import { DEV_AUDIENCE, DEV_ISSUER, DevAuthority } from '../authority/dev-authority';
import {
  DEV_INSTALLATION,
  DEV_TENANT,
  EMBEDDED_STATE_FILE,
  generateEmbeddedProfile,
  readEmbeddedProfile,
  type EmbeddedProfile,
} from './embedded-profile';

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

describe('generateEmbeddedProfile', () => {
  let parent: string;
  let generated: EmbeddedProfile;
  let moved: string;

  beforeAll(async () => {
    parent = mkdtempSync(join(tmpdir(), 'signer-dev-profile-'));
    generated = await generateEmbeddedProfile(join(parent, 'original'), { port: 18080 });
    moved = join(parent, 'moved');
    renameSync(generated.dir, moved);
  });

  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  describe('when the folder is moved after generation', () => {
    it('reads back with every path resolved against the new folder', () => {
      const profile = readEmbeddedProfile(moved);

      expect(profile).toEqual({
        ...generated,
        dir: moved,
        configPath: join(moved, 'signer.yaml'),
        authorityPrivateJwkFile: join(moved, 'authority/private.jwk.json'),
        poeFile: join(moved, 'licensing/poe.jwt'),
        licensingPrivateJwkFile: join(moved, 'licensing/private.jwk.json'),
      });
      expect(profile.signerUrl).toBe('http://127.0.0.1:18080');
    });
  });

  describe('when a dev token is minted from the stored Authority key', () => {
    it('verifies against the published JWKS for the profile tenant and installation', async () => {
      const profile = readEmbeddedProfile(moved);
      const authority = await DevAuthority.fromPrivateJwk(readJson(profile.authorityPrivateJwkFile));
      const token = await authority.mint({
        tenant: profile.tenant,
        installation: profile.installation,
        jkt: 'thumbprint-of-the-caller-key',
      });

      const jwks = readJson<JSONWebKeySet>(join(moved, 'authority/jwks.json'));
      const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
        issuer: DEV_ISSUER,
        audience: DEV_AUDIENCE,
      });
      expect(payload).toMatchObject({
        tid: DEV_TENANT,
        inst: DEV_INSTALLATION,
        cnf: { jkt: 'thumbprint-of-the-caller-key' },
      });
    });
  });

  describe('when the PoE is checked against the published Licensing key', () => {
    it('verifies and names the profile tenant and installation', async () => {
      const profile = readEmbeddedProfile(moved);
      const jwks = readJson<JSONWebKeySet>(join(moved, 'licensing/jwks.json'));

      const { payload } = await jwtVerify(readFileSync(profile.poeFile, 'utf8'), createLocalJWKSet(jwks));

      expect(payload).toMatchObject({ tenant: DEV_TENANT, installation: DEV_INSTALLATION, active: true });
    });
  });

  describe('when the config is read', () => {
    it('names only files that exist relative to the profile folder', () => {
      const config = parse(readFileSync(join(moved, 'signer.yaml'), 'utf8'));
      const files = [
        config.authority.jwksFile,
        config.licensing.offlineJwksFile,
        config.releaseIntegrity.ociLayoutPath,
        ...config.releaseIntegrity.trustedKeysFiles,
        config.signing.keys.default.ref.replace('file://', ''),
      ];

      expect(files.filter((file: string) => !existsSync(join(moved, file)))).toEqual([]);
      // The URL is derived from the address the service listens on, so a port override moves it.
      expect(config.server).toEqual({ host: '127.0.0.1', port: 18080, bodyLimitBytes: 1048576 });
    });
  });

  describe('when the managed state store is chosen', () => {
    it('keeps keys and ceremonies in the profile by default, and none with memory', async () => {
      const config = parse(readFileSync(join(moved, 'signer.yaml'), 'utf8'));
      expect(config.state).toEqual({ store: 'file', filePath: EMBEDDED_STATE_FILE });
      expect(config.ceremonies).toBeUndefined();

      const memory = await generateEmbeddedProfile(join(parent, 'memory'), { stateStore: 'memory' });
      expect(parse(readFileSync(memory.configPath, 'utf8')).state).toBeUndefined();
    });

    it('forgets the state of an earlier generation (it names keys that are gone)', async () => {
      const dir = join(parent, 'regenerated');
      await generateEmbeddedProfile(dir);
      writeFileSync(join(dir, EMBEDDED_STATE_FILE), '{"version":7}');
      writeFileSync(join(dir, 'state/ceremonies.json'), '[]');

      await generateEmbeddedProfile(dir);

      expect(readdirSync(join(dir, 'state'))).toEqual([]);
    });
  });

  describe('when the secrets are on disk', () => {
    it('keeps every private key and the PoE owner-only', () => {
      const secrets = [
        'authority/private.jwk.json',
        'licensing/private.jwk.json',
        'licensing/poe.jwt',
        'signing/default.pem',
      ];

      expect(secrets.map((file) => [file, statSync(join(moved, file)).mode & 0o777])).toEqual(
        secrets.map((file) => [file, 0o600]),
      );
    });
  });
});
