import { SignerError } from '../errors';
import { testKey } from '../../test/managed-keys';
import { ceremonyTarget, parseCeremonyOperation, parseVoteReason } from './ceremony-operation';

function refused(value: unknown): string {
  try {
    parseCeremonyOperation(value);
  } catch (error) {
    expect(error).toBeInstanceOf(SignerError);
    expect((error as SignerError).code).toBe('invalid_request');
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('parseCeremonyOperation', () => {
  describe('when the operation is well formed', () => {
    it('returns a copy with only its known fields', () => {
      expect(
        parseCeremonyOperation({
          kind: 'key.register',
          name: 'release-2027',
          ref: 'awskms:///arn:aws:kms:eu-west-1:1:key/abc',
          validFrom: '2027-01-01T00:00:00Z',
        }),
      ).toEqual({
        kind: 'key.register',
        name: 'release-2027',
        ref: 'awskms:///arn:aws:kms:eu-west-1:1:key/abc',
        validFrom: '2027-01-01T00:00:00Z',
      });
      expect(parseCeremonyOperation({ kind: 'key.set-default', name: 'a', plan: 'pro' })).toEqual({
        kind: 'key.set-default',
        name: 'a',
        plan: 'pro',
      });
    });

    it('names the key, or the anchor fingerprint, as the target', () => {
      const anchor = testKey();
      expect(ceremonyTarget({ kind: 'trust-anchor.add', publicKeyPem: anchor.publicKeyPem })).toBe(
        anchor.keyId,
      );
      expect(ceremonyTarget({ kind: 'trust-anchor.remove', keyId: anchor.keyId })).toBe(anchor.keyId);
      expect(ceremonyTarget({ kind: 'key.retire', name: 'old' })).toBe('old');
    });

    it('takes a PEM with CRLF line breaks, and refuses one carrying a NUL that OpenSSL would ignore', () => {
      const { publicKeyPem } = testKey();
      const crlf = publicKeyPem.replace(/\n/g, '\r\n');
      expect(parseCeremonyOperation({ kind: 'trust-anchor.add', publicKeyPem: crlf })).toEqual({
        kind: 'trust-anchor.add',
        publicKeyPem: crlf,
      });
      // Stored as given, a NUL would make PostgreSQL jsonb refuse the ceremony (a 503, not a 400).
      expect(refused({ kind: 'trust-anchor.add', publicKeyPem: `${publicKeyPem}\u0000` })).toContain(
        'operation.publicKeyPem: expected a PEM public key of 64–16384 characters, no control characters but line breaks',
      );
    });
  });

  describe('when a field is wrong', () => {
    it.each([
      [null, 'operation.kind'],
      [{ kind: 'key.delete', name: 'a' }, 'operation.kind: expected one of'],
      [{ kind: 'key.activate', name: 'a b' }, 'operation.name'],
      [{ kind: 'key.activate', name: 'x'.repeat(65) }, 'operation.name'],
      [{ kind: 'key.activate', name: 'a', reason: 'x' }, 'operation.reason: unknown field'],
      [{ kind: 'key.revoke', name: 'a' }, 'operation.reason'],
      [{ kind: 'key.revoke', name: 'a', reason: 'x'.repeat(513) }, 'operation.reason'],
      [{ kind: 'key.revoke', name: 'a', reason: 'line\u001b[2J' }, 'operation.reason'],
      [{ kind: 'key.register', name: 'a', ref: 'http://kms' }, 'operation.ref'],
      [{ kind: 'key.register', name: 'a', ref: 'file:/k', validFrom: '2027-01-01' }, 'operation.validFrom'],
      [
        {
          kind: 'key.register',
          name: 'a',
          ref: 'file:/k',
          validFrom: '2027-01-02T00:00:00Z',
          validUntil: '2027-01-01T00:00:00Z',
        },
        'operation.validUntil',
      ],
      [{ kind: 'trust-anchor.add', publicKeyPem: 'short' }, 'operation.publicKeyPem'],
      [{ kind: 'trust-anchor.add', publicKeyPem: 'x'.repeat(16_385) }, 'operation.publicKeyPem'],
      [
        {
          kind: 'trust-anchor.add',
          publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${'A'.repeat(80)}\n-----END PUBLIC KEY-----\n`,
        },
        'operation.publicKeyPem: expected a PEM public key',
      ],
      [{ kind: 'trust-anchor.remove', keyId: 'sha256:AB' }, 'operation.keyId'],
    ])('refuses %j naming the field', (value, message) => {
      expect(refused(value)).toContain(message);
    });
  });
});

describe('parseVoteReason', () => {
  it('accepts 1–512 characters and refuses empty, blank, control characters and non-strings', () => {
    expect(parseVoteReason('not this key')).toBe('not this key');
    for (const bad of ['', '   ', 'a\nb', 'x'.repeat(513), 42, undefined])
      expect(() => parseVoteReason(bad)).toThrow('reason: expected 1–512 characters');
  });
});
