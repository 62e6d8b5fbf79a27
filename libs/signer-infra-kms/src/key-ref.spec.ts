import { KeyConfigError } from './errors';
import { parseKeyRef } from './key-ref';

describe('parseKeyRef', () => {
  describe('when the ref is a file:// path', () => {
    it.each([
      ['file:///etc/signer/key.pem', '/etc/signer/key.pem'],
      ['file://./keys/dev.pem', './keys/dev.pem'],
    ])('returns the path of %s verbatim', (ref, path) => {
      expect(parseKeyRef(ref)).toEqual({ scheme: 'file', path });
    });

    it('refuses an empty path', () => {
      expect(() => parseKeyRef('file://')).toThrow(KeyConfigError);
    });
  });

  describe('when the ref is awskms://', () => {
    it.each([
      ['1234abcd-12ab-34cd-56ef-1234567890ab'],
      ['mrk-1234abcd12ab34cd56ef1234567890ab'],
      ['alias/stella-signer'],
      ['arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
      ['arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/stella-signer'],
    ])('accepts %s', (keyId) => {
      expect(parseKeyRef(`awskms://${keyId}`)).toEqual({ scheme: 'awskms', keyId });
    });

    it('accepts the cosign form with an empty endpoint', () => {
      expect(parseKeyRef('awskms:///alias/stella-signer')).toEqual({
        scheme: 'awskms',
        keyId: 'alias/stella-signer',
      });
    });

    it.each([
      ['awskms://'],
      ['awskms://localhost:4566/alias/x'],
      ['awskms://not a key'],
      ['awskms://arn:aws:s3:::bucket'],
    ])('refuses %s, naming the expected forms', (ref) => {
      expect(() => parseKeyRef(ref)).toThrow(/not an AWS KMS key id/);
    });
  });

  describe('when the ref is gcpkms://', () => {
    const name = 'projects/p-1/locations/europe-west1/keyRings/ring/cryptoKeys/signer/cryptoKeyVersions/3';

    it('returns the key version resource name', () => {
      expect(parseKeyRef(`gcpkms://${name}`)).toEqual({ scheme: 'gcpkms', name });
    });

    it.each([
      ['without a version', 'projects/p/locations/l/keyRings/r/cryptoKeys/k'],
      ['with version 0', 'projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/0'],
      [
        'with a non-numeric version',
        'projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/latest',
      ],
      ['with a trailing slash', `${name}/`],
      ['with an empty segment', 'projects//locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1'],
    ])('refuses a name %s', (_label, bad) => {
      expect(() => parseKeyRef(`gcpkms://${bad}`)).toThrow(/cryptoKeyVersions\/N/);
    });
  });

  describe('when the ref is a pkcs11: URI (RFC 7512)', () => {
    it('returns the parsed URI', () => {
      expect(
        parseKeyRef('pkcs11:token=signer;id=%01?pin-source=file:/run/pin&module-path=/usr/lib/m.so'),
      ).toEqual({
        scheme: 'pkcs11',
        uri: { token: 'signer', id: Buffer.from([1]), pinSource: '/run/pin', modulePath: '/usr/lib/m.so' },
      });
    });

    it('refuses a PIN in the URI', () => {
      expect(() => parseKeyRef('pkcs11:id=%01?pin-value=1234')).toThrow(/pin-value.*refused/);
    });

    it('refuses the authority form pkcs11://', () => {
      expect(() => parseKeyRef('pkcs11://slot')).toThrow(KeyConfigError);
    });
  });

  describe('when the scheme is missing or unknown', () => {
    it('refuses a bare path', () => {
      expect(() => parseKeyRef('/etc/signer/key.pem')).toThrow(/has no scheme/);
    });

    it('refuses another scheme, naming it', () => {
      expect(() => parseKeyRef('hashivault://transit/keys/x')).toThrow(/unsupported scheme "hashivault"/);
    });
  });
});
