import { SignerError } from '../errors';
import { canonicalize } from '../canonical-json/canonical-json';
import { buildStatement, IN_TOTO_STATEMENT_TYPE } from './statement';

const hex = (c: string) => c.repeat(64);

describe('buildStatement', () => {
  describe('when subjects arrive in any order', () => {
    it('sorts them by name, then digest, so the statement bytes are deterministic', () => {
      const a = buildStatement({
        subject: [
          { name: 'b', digest: { sha256: hex('1') } },
          { name: 'a', digest: { sha256: hex('2') } },
          { name: 'a', digest: { sha256: hex('0') } },
        ],
        predicateType: 'p',
        predicate: { z: 1, a: 2 },
      });
      expect(a._type).toBe(IN_TOTO_STATEMENT_TYPE);
      expect(a.subject.map((s) => `${s.name}:${s.digest.sha256[0]}`)).toEqual(['a:0', 'a:2', 'b:1']);
      const b = buildStatement({
        subject: [...a.subject].reverse(),
        predicateType: 'p',
        predicate: { a: 2, z: 1 },
      });
      expect(canonicalize(b)).toBe(canonicalize(a));
    });
  });

  describe('when a digest is not lowercase hex', () => {
    it.each([['A'.repeat(64)], ['0'.repeat(63)], ['g'.repeat(64)]])(
      'refuses %s with invalid_request',
      (digest) => {
        expect(() =>
          buildStatement({
            subject: [{ name: 'x', digest: { sha256: digest } }],
            predicateType: 'p',
            predicate: {},
          }),
        ).toThrow(expect.objectContaining({ code: 'invalid_request' }));
      },
    );
  });

  describe('when the subject count is out of range', () => {
    it('refuses zero subjects', () => {
      expect(() => buildStatement({ subject: [], predicateType: 'p', predicate: {} })).toThrow(SignerError);
    });
    it('refuses 1,025 subjects', () => {
      const subject = Array.from({ length: 1025 }, (_, i) => ({
        name: `s${i}`,
        digest: { sha256: hex('a') },
      }));
      expect(() => buildStatement({ subject, predicateType: 'p', predicate: {} })).toThrow(
        expect.objectContaining({ code: 'invalid_request' }),
      );
    });
  });

  describe('when a digest uses an unknown algorithm or lacks sha256', () => {
    it('refuses md5', () => {
      expect(() =>
        buildStatement({
          subject: [{ name: 'x', digest: { sha256: hex('a'), md5: 'ab' } }],
          predicateType: 'p',
          predicate: {},
        }),
      ).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    });
    it('refuses a digest without sha256', () => {
      expect(() =>
        buildStatement({
          subject: [{ name: 'x', digest: { sha512: 'a'.repeat(128) } }],
          predicateType: 'p',
          predicate: {},
        }),
      ).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    });
  });
});
