import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyConfigError } from '@signer/infra-kms';
import { generateEmbeddedProfile, type EmbeddedProfile } from '@signer/dev';
import { FakeAwsKms, FakeGcpKms } from '@signer/testing';
import { parse, stringify } from 'yaml';
import { ConfigError, loadConfig } from '../src/config/load-config';
import { createRuntime } from '../src/wiring/create-runtime';
import { useAwsCredentials } from './signing-fixtures';

jest.setTimeout(30_000);

type Section = Record<string, unknown>;

describe('signing configuration at start-up', () => {
  let dir: string;
  let profile: EmbeddedProfile;
  let original: string;
  let aws: FakeAwsKms;
  let gcp: FakeGcpKms;
  let restoreEnv: () => void;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'signer-startup-'));
    profile = await generateEmbeddedProfile(dir);
    original = readFileSync(profile.configPath, 'utf8');
    [aws, gcp] = await Promise.all([FakeAwsKms.start(), FakeGcpKms.start()]);
    restoreEnv = useAwsCredentials(aws.credentials, aws.region);
  }, 60_000);
  afterAll(async () => {
    restoreEnv();
    await Promise.all([aws.close(), gcp.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Loads the profile's config with `signing` edited, as `SIGNER_CONFIG` would. */
  const load = (edit: (signing: Section) => void) => {
    const config = parse(original) as Record<string, Section>;
    edit(config['signing']);
    writeFileSync(profile.configPath, stringify(config));
    return loadConfig(profile.configPath, {});
  };
  const keys = (signing: Section) => signing['keys'] as Record<string, Section>;

  describe('when a cloud key cannot sign as configured', () => {
    it.each([
      [
        'an AWS encryption key',
        () => ({
          ref: `awskms://${aws.createKey('RSA_2048', { usage: 'ENCRYPT_DECRYPT' }).arn}`,
          endpoint: aws.endpoint,
          algorithm: 'PS256',
        }),
        /signing key "release".*expected KeyUsage SIGN_VERIFY, got ENCRYPT_DECRYPT/,
      ],
      [
        'an AWS key whose spec does not match the configured algorithm',
        () => ({
          ref: `awskms://${aws.createKey('ECC_NIST_P256').arn}`,
          endpoint: aws.endpoint,
          algorithm: 'ES384',
        }),
        /signing key "release".*configured algorithm ES384 does not match KeySpec ECC_NIST_P256/,
      ],
      [
        'a Cloud KMS decryption key version',
        () => ({
          ref: `gcpkms://${gcp.addKeyVersion('RSA_DECRYPT_OAEP_2048_SHA256').name}`,
          endpoint: gcp.restEndpoint,
        }),
        /signing key "release".*expected an asymmetric signing key version/,
      ],
      [
        'a Cloud KMS key version whose algorithm does not match',
        () => ({
          ref: `gcpkms://${gcp.addKeyVersion('EC_SIGN_P384_SHA384').name}`,
          endpoint: gcp.restEndpoint,
          algorithm: 'ES256',
        }),
        /signing key "release".*configured algorithm ES256 does not match the key version's EC_SIGN_P384_SHA384/,
      ],
      [
        'a file key whose algorithm does not match',
        () => ({ ref: `file://${join(dir, 'signing/default.pem')}`, algorithm: 'EdDSA' }),
        /signing key "release": configured algorithm EdDSA does not match the key file \(ES256\)/,
      ],
    ])('refuses to start with %s, naming the key', async (_label, key, message) => {
      const config = load((signing) => {
        keys(signing)['release'] = key();
      });
      const error = await createRuntime(config).then(
        async (runtime) => {
          await runtime.close();
          throw new Error('the Signer started');
        },
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(KeyConfigError);
      expect((error as Error).message).toMatch(message);
    });
  });

  describe('when signing settings are inconsistent', () => {
    it.each([
      [
        'maxRps on a file key',
        (s: Section) => Object.assign(keys(s)['default'], { maxRps: 10 }),
        /signing.keys.default.maxRps: only for awskms:\/\/, gcpkms:\/\/ and pkcs11: keys/,
      ],
      [
        'region on a Cloud KMS key',
        (s: Section) =>
          (keys(s)['g'] = {
            ref: 'gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1',
            region: 'x',
          }),
        /signing.keys.g.region: only for awskms:\/\/ keys/,
      ],
      [
        'a plain-http endpoint off loopback',
        (s: Section) => (keys(s)['a'] = { ref: 'awskms://alias/a', endpoint: 'http://kms.internal:4566' }),
        /signing.keys.a.endpoint: plain http:\/\/ is only allowed for a loopback host/,
      ],
      [
        'maxWaitMs without maxRps',
        (s: Section) => (keys(s)['a'] = { ref: 'awskms://alias/a', maxWaitMs: 10 }),
        /signing.keys.a.maxWaitMs: requires maxRps/,
      ],
      [
        'a malformed key reference',
        (s: Section) => (keys(s)['a'] = { ref: 'awskms://not a key' }),
        /signing.keys.a.ref: .*not an AWS KMS key id/,
      ],
      [
        'poolSize on a cloud KMS key',
        (s: Section) => (keys(s)['a'] = { ref: 'awskms://alias/a', poolSize: 2 }),
        /signing.keys.a.poolSize: only for pkcs11: keys/,
      ],
      [
        'a PIN inside a pkcs11: reference',
        (s: Section) => (keys(s)['h'] = { ref: 'pkcs11:id=%01?pin-value=1234&module-path=/m.so' }),
        /signing.keys.h.ref: pkcs11 key reference: "pin-value" is refused/,
      ],
      [
        'keyless as default mode without signing.keyless',
        (s: Section) => (s['defaultMode'] = 'keyless'),
        /signing.keyless: required when signing.defaultMode is keyless/,
      ],
      [
        'a plain-http Fulcio off loopback',
        (s: Section) => (s['keyless'] = { fulcioUrl: 'http://fulcio.internal', identityTokenFile: '/t' }),
        /signing.keyless.fulcioUrl: plain http:\/\//,
      ],
      [
        'a non-positive maxRps',
        (s: Section) => (keys(s)['a'] = { ref: 'awskms://alias/a', maxRps: 0 }),
        /maxRps/,
      ],
    ])('refuses %s, naming the setting', (_label, edit, message) => {
      expect(() => load(edit)).toThrow(ConfigError);
      expect(() => load(edit)).toThrow(message);
    });
  });
});
