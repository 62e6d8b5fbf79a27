import documents from './vectors/rfc8785-documents.json';
import numbers from './vectors/rfc8785-numbers.json';
import { canonicalize, CanonicalJsonError } from './canonical-json';

function fromIeee754Hex(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}

describe('canonicalize', () => {
  describe('when given the RFC 8785 Appendix B numbers', () => {
    it.each(numbers.vectors)('serializes %s as %s (or rejects it)', (hex, expected) => {
      const value = fromIeee754Hex(hex as string);
      if (expected === null) {
        expect(() => canonicalize(value)).toThrow(CanonicalJsonError);
      } else {
        expect(canonicalize(value)).toBe(expected);
      }
    });
  });

  describe('when given the RFC 8785 example documents', () => {
    it.each(documents.vectors.map((v) => [v.name, v.input, v.expected]))(
      '%s matches',
      (_name, input, expected) => {
        expect(canonicalize(JSON.parse(input))).toBe(expected);
      },
    );
  });

  describe('when given values JSON cannot carry', () => {
    it('rejects a lone surrogate in a string', () => {
      expect(() => canonicalize({ a: '\ud800' })).toThrow(CanonicalJsonError);
    });
    it('rejects a lone surrogate in a member name', () => {
      expect(() => canonicalize({ '\udc00': 1 })).toThrow(CanonicalJsonError);
    });
    it('rejects functions and bigints', () => {
      expect(() => canonicalize({ f: () => 1 })).toThrow(CanonicalJsonError);
      expect(() => canonicalize(BigInt(1))).toThrow(CanonicalJsonError);
    });
    it('rejects nesting deeper than 256', () => {
      let deep: unknown = 1;
      for (let i = 0; i < 300; i += 1) deep = [deep];
      expect(() => canonicalize(deep)).toThrow(CanonicalJsonError);
    });
  });

  describe('when members are undefined', () => {
    it('omits them like JSON.stringify', () => {
      expect(canonicalize({ b: undefined, a: 1 })).toBe('{"a":1}');
    });
  });
});
