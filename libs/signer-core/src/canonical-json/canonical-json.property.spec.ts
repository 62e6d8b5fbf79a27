import fc from 'fast-check';
import { CanonicalJsonError, canonicalize } from './canonical-json';

/** CI replays one fixed seed (reproducible); locally every run explores new cases (fast-check prints the seed). */
const SEED = process.env['CI'] ? { seed: 20261128 } : {};

describe('canonicalize', () => {
  describe('when given a JSON value', () => {
    it('is a fixed point through JSON.parse', () => {
      fc.assert(
        fc.property(fc.jsonValue(), (value) => {
          const text = canonicalize(value);
          expect(canonicalize(JSON.parse(text))).toBe(text);
        }),
        { numRuns: 2000, ...SEED },
      );
    });

    it('does not depend on member order', () => {
      fc.assert(
        fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), (record) => {
          const reversed = Object.fromEntries(Object.entries(record).reverse());
          expect(canonicalize(reversed)).toBe(canonicalize(record));
        }),
        { numRuns: 500, ...SEED },
      );
    });
  });

  describe('when given an object of any size', () => {
    // Small objects are sorted in place by insertion, large ones by Array.prototype.sort: both must
    // give the UTF-16 code-unit order (astral characters sort by their surrogates, before U+E000).
    it('orders its members by UTF-16 code units', () => {
      const name = fc.string({ unit: fc.constantFrom('a', 'B', 'é', '\ue000', '\ud83d\ude00', '1', '') });
      fc.assert(
        fc.property(fc.uniqueArray(name, { maxLength: 60 }), (names) => {
          const record = Object.fromEntries(names.map((n, index) => [n, index]));
          const expected = [...names].sort().map((n) => `${JSON.stringify(n)}:${record[n]}`);
          expect(canonicalize(record)).toBe(`{${expected.join(',')}}`);
        }),
        { numRuns: 500, ...SEED },
      );
    });
  });

  describe('when given a well-formed string', () => {
    // The fast path (quote a string with nothing to escape) must agree with QuoteJSONString.
    it('serialises it exactly as JSON.stringify does', () => {
      const specials = fc.constantFrom(
        '"',
        '\\',
        '\u0000',
        '\u001f',
        '\u007f',
        '\u2028',
        '\ud83d\ude00',
        'é',
      );
      const text = fc.oneof(
        fc.string({ unit: 'grapheme' }),
        fc.array(fc.oneof(fc.string(), specials)).map((parts) => parts.join('')),
      );
      fc.assert(
        fc.property(text, (value) => {
          expect(canonicalize(value)).toBe(JSON.stringify(value));
          expect(canonicalize({ [value]: value })).toBe(JSON.stringify({ [value]: value }));
        }),
        { numRuns: 2000, ...SEED },
      );
    });
  });

  describe('when given anything at all', () => {
    it('returns JSON text or throws CanonicalJsonError, nothing else', () => {
      const deep = fc.integer({ min: 200, max: 400 }).map((depth) => {
        let value: unknown = 'leaf';
        for (let i = 0; i < depth; i += 1) value = [value];
        return value;
      });
      fc.assert(
        fc.property(
          fc.oneof(
            fc.anything({ withBigInt: true, withMap: true, withSet: true }),
            fc.string({ unit: 'binary' }),
            deep,
          ),
          (value) => {
            try {
              JSON.parse(canonicalize(value));
            } catch (error) {
              expect(error).toBeInstanceOf(CanonicalJsonError);
            }
          },
        ),
        { numRuns: 2000, ...SEED },
      );
    });
  });
});
