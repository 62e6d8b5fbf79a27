import { KeyConfigError } from '../errors';
import { parsePkcs11Uri } from './pkcs11-uri';

describe('parsePkcs11Uri', () => {
  describe('when the URI is well formed', () => {
    it('returns every supported path and query attribute, percent-decoded', () => {
      const uri = parsePkcs11Uri(
        'pkcs11:token=Stella%20Signer;manufacturer=SoftHSM%20project;serial=a1b2;model=SoftHSM%20v2;' +
          'object=release%2Dkey;id=%01%02%ff;type=private' +
          '?pin-source=file:/run/secrets/hsm-pin&module-path=/usr/lib/softhsm/libsofthsm2.so&module-name=softhsm2',
      );
      expect(uri).toEqual({
        token: 'Stella Signer',
        manufacturer: 'SoftHSM project',
        serial: 'a1b2',
        model: 'SoftHSM v2',
        object: 'release-key',
        id: Buffer.from([0x01, 0x02, 0xff]),
        type: 'private',
        pinSource: '/run/secrets/hsm-pin',
        modulePath: '/usr/lib/softhsm/libsofthsm2.so',
        moduleName: 'softhsm2',
      });
    });

    it('accepts the RFC 8089 file:/// form of pin-source', () => {
      expect(parsePkcs11Uri('pkcs11:id=%01?pin-source=file:///etc/pin').pinSource).toBe('/etc/pin');
    });

    it('decodes UTF-8 labels', () => {
      expect(parsePkcs11Uri('pkcs11:object=cl%C3%A9').object).toBe('clé');
    });

    it('accepts an empty path and query', () => {
      expect(parsePkcs11Uri('pkcs11:')).toEqual({});
      expect(parsePkcs11Uri('pkcs11:?')).toEqual({});
    });
  });

  describe('when the URI carries a PIN', () => {
    it('refuses pin-value without echoing it', () => {
      const attempt = () => parsePkcs11Uri('pkcs11:id=%01?pin-value=s3cr3t-1234');
      expect(attempt).toThrow(KeyConfigError);
      expect(attempt).toThrow(/pin-value.*refused.*pin-source/);
      try {
        attempt();
      } catch (error) {
        expect((error as Error).message).not.toContain('s3cr3t');
      }
    });

    it('does not echo a malformed pair that could be a mistyped PIN', () => {
      expect(() => parsePkcs11Uri('pkcs11:id=%01?s3cr3t')).toThrow(
        /query attribute 1 is not an attribute=value pair/,
      );
    });
  });

  describe('when the URI is hostile or malformed', () => {
    it.each([
      ['another scheme', 'pkcs12:id=%01', /scheme "pkcs11:"/],
      ['the authority form', 'pkcs11://slot', /path attribute 1 is not an attribute=value pair/],
      ['an unknown path attribute', 'pkcs11:slot-id=0', /unsupported path attribute "slot-id"/],
      ['a vendor attribute', 'pkcs11:x-vendor=1', /unsupported path attribute "x-vendor"/],
      [
        'an unknown query attribute',
        'pkcs11:id=%01?pin-command=x',
        /unsupported query attribute "pin-command"/,
      ],
      ['a repeated attribute', 'pkcs11:id=%01;id=%02', /"id" appears more than once/],
      ['a truncated percent escape', 'pkcs11:id=%0', /"id" has characters RFC 7512 does not allow/],
      ['a non-hex percent escape', 'pkcs11:object=%zz', /"object" has characters/],
      ['a literal space', 'pkcs11:object=a b', /"object" has characters/],
      ['a fragment', 'pkcs11:object=a#b', /"object" has characters/],
      ['a slash in the path', 'pkcs11:object=a/b', /"object" has characters/],
      ['non-ASCII', 'pkcs11:object=clé', /"object" has characters/],
      ['a NUL byte', 'pkcs11:object=a%00b', /"object" is empty or holds control characters/],
      ['a newline', 'pkcs11:token=a%0Ab', /"token" is empty or holds control characters/],
      ['invalid UTF-8', 'pkcs11:object=%C3%28', /"object" is not valid UTF-8/],
      ['an empty id', 'pkcs11:id=', /"id" is empty/],
      ['an unknown type', 'pkcs11:type=secret', /"type" must be one of/],
      ['a command pin-source', 'pkcs11:id=%01?pin-source=%7C/bin/cat', /pin-source" must be file:/],
      ['a relative pin-source', 'pkcs11:id=%01?pin-source=file:pin.txt', /pin-source" must be file:/],
      ['a remote pin-source', 'pkcs11:id=%01?pin-source=file://host/pin', /pin-source" must be file:/],
      ['a dot-dot pin-source', 'pkcs11:id=%01?pin-source=file:/etc/../pin', /absolute path without "\.\."/],
      [
        'a relative module-path',
        'pkcs11:id=%01?module-path=lib.so',
        /"module-path" must be an absolute path/,
      ],
      ['a nameless pair', 'pkcs11:=x', /path attribute 1 is not an attribute=value pair/],
      ['an upper-case name', 'pkcs11:ID=%01', /path attribute 1 has an invalid name/],
      ['an over-long URI', `pkcs11:object=${'a'.repeat(5000)}`, /longer than 4096/],
    ])('refuses %s', (_label, ref, message) => {
      expect(() => parsePkcs11Uri(ref)).toThrow(KeyConfigError);
      expect(() => parsePkcs11Uri(ref)).toThrow(message);
    });
  });
});
