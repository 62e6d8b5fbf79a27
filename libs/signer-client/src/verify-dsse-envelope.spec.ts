import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { pae, type DsseEnvelope } from './dsse';
import { ClientVerificationError } from './errors';
import { verifyDsseEnvelope } from './verify-dsse-envelope';

const payloadType = 'application/vnd.in-toto+json';
const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1","subject":[]}');

const spkiPem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();

function signedEnvelope(privateKey: KeyObject, digest: string | null): DsseEnvelope {
  const sig = sign(digest, pae(payloadType, payload), privateKey);
  return {
    payloadType,
    payload: payload.toString('base64'),
    signatures: [{ keyid: 'k', sig: sig.toString('base64') }],
  };
}

const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const ed25519 = generateKeyPairSync('ed25519');

describe('pae', () => {
  describe('when given the DSSE protocol example', () => {
    it('produces the documented bytes', () => {
      expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
        'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
      );
    });
  });
});

describe('verifyDsseEnvelope', () => {
  describe('when the envelope is signed by the given key', () => {
    it.each([
      ['ECDSA P-256 / SHA-256', p256, 'sha256'],
      ['ECDSA P-384 / SHA-384', generateKeyPairSync('ec', { namedCurve: 'secp384r1' }), 'sha384'],
      ['Ed25519', ed25519, null],
    ])('returns true for %s', (_label, pair, digest) => {
      expect(verifyDsseEnvelope(signedEnvelope(pair.privateKey, digest), spkiPem(pair.publicKey))).toBe(true);
    });

    it('accepts a base64url-encoded envelope', () => {
      const env = signedEnvelope(p256.privateKey, 'sha256');
      const url = (b64: string) => Buffer.from(b64, 'base64').toString('base64url');
      const urlEnv = { ...env, payload: url(env.payload), signatures: [{ sig: url(env.signatures[0].sig) }] };
      expect(verifyDsseEnvelope(urlEnv, spkiPem(p256.publicKey))).toBe(true);
    });
  });

  describe('when the key is not the signer', () => {
    it('returns false', () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      expect(verifyDsseEnvelope(signedEnvelope(p256.privateKey, 'sha256'), spkiPem(other.publicKey))).toBe(
        false,
      );
    });
  });

  describe('when the envelope was altered', () => {
    const env = signedEnvelope(ed25519.privateKey, null);
    const pem = spkiPem(ed25519.publicKey);

    it('returns false for a tampered signature', () => {
      const sig = Buffer.from(env.signatures[0].sig, 'base64');
      sig[10] ^= 0x01;
      expect(verifyDsseEnvelope({ ...env, signatures: [{ sig: sig.toString('base64') }] }, pem)).toBe(false);
    });

    it('returns false for a tampered payload', () => {
      const tampered = Buffer.from(payload.toString().replace('subject', 'subjekt')).toString('base64');
      expect(verifyDsseEnvelope({ ...env, payload: tampered }, pem)).toBe(false);
    });

    it('returns false for a different payloadType, which PAE covers', () => {
      expect(verifyDsseEnvelope({ ...env, payloadType: 'text/plain' }, pem)).toBe(false);
    });

    it('returns false when stray characters are added to the base64 payload', () => {
      expect(verifyDsseEnvelope({ ...env, payload: `${env.payload}!` }, pem)).toBe(false);
      expect(
        verifyDsseEnvelope({ ...env, payload: `${env.payload.slice(0, 8)}\n${env.payload.slice(8)}` }, pem),
      ).toBe(false);
    });

    it('returns false for a truncated DER ECDSA signature', () => {
      const ecEnv = signedEnvelope(p256.privateKey, 'sha256');
      const short = Buffer.from(ecEnv.signatures[0].sig, 'base64').subarray(0, 20).toString('base64');
      expect(verifyDsseEnvelope({ ...ecEnv, signatures: [{ sig: short }] }, spkiPem(p256.publicKey))).toBe(
        false,
      );
    });
  });

  describe('when the envelope is malformed', () => {
    it.each([
      ['no signatures', { payloadType, payload: 'e30=', signatures: [] }],
      ['an empty sig', { payloadType, payload: 'e30=', signatures: [{ sig: '' }] }],
      ['signatures that is not an array', { payloadType, payload: 'e30=', signatures: 'x' }],
      ['a missing payload', { payloadType, signatures: [{ sig: 'AAAA' }] }],
    ])('returns false for %s', (_label, env) => {
      expect(verifyDsseEnvelope(env as unknown as DsseEnvelope, spkiPem(p256.publicKey))).toBe(false);
    });
  });

  describe('when the key cannot be used', () => {
    it('throws unsupported_key for an RSA key rather than answering false', () => {
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      expect(() =>
        verifyDsseEnvelope(signedEnvelope(p256.privateKey, 'sha256'), spkiPem(rsa.publicKey)),
      ).toThrow(expect.objectContaining({ code: 'unsupported_key' }));
    });

    it('throws unsupported_key for text that is not a PEM key', () => {
      expect(() => verifyDsseEnvelope(signedEnvelope(p256.privateKey, 'sha256'), 'not a key')).toThrow(
        ClientVerificationError,
      );
    });
  });
});
