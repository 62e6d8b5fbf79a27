import fc from 'fast-check';
import { canonicalize } from '../canonical-json/canonical-json';
import { SignerError } from '../errors';
import type { SubjectInput } from '../model';
import { buildStatement } from './statement';

/** CI replays one fixed seed (reproducible); locally every run explores new cases (fast-check prints the seed). */
const SEED = process.env['CI'] ? { seed: 20261128 } : {};
const HEX64 = 'ab'.repeat(32);
const ALGORITHMS = ['sha256', 'sha384', 'sha512', 'sha1', 'constructor', 'toString', '__proto__', 'valueOf'];

const digest = fc.dictionary(
  fc.oneof(fc.constantFrom(...ALGORITHMS), fc.string({ maxLength: 8 })),
  fc.oneof(fc.constantFrom(HEX64, 'ab'.repeat(48), 'ab'.repeat(64), 'AB'), fc.string({ unit: 'binary' })),
  { maxKeys: 4 },
);
const subject = fc.record({
  name: fc.oneof(fc.constant('registry.example/app'), fc.string({ unit: 'binary' })),
  digest: fc.oneof(fc.constant({ sha256: HEX64 }), digest),
});
const predicate = fc.oneof(
  fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })),
  fc.string({ unit: 'binary', maxLength: 10 }).map((text) => ({ text })),
  fc.integer({ min: 250, max: 300 }).map((depth) => {
    let value: unknown = 'leaf';
    for (let i = 0; i < depth; i += 1) value = { a: value };
    return { value };
  }),
);

describe('buildStatement', () => {
  describe('when the request parts are generated hostile', () => {
    it('builds a canonicalizable statement or throws SignerError invalid_request', () => {
      let built = 0;
      fc.assert(
        fc.property(
          fc.array(subject, { maxLength: 4 }),
          fc.string({ unit: 'binary', maxLength: 20 }),
          predicate,
          (subjects, predicateType, body) => {
            let statement;
            try {
              statement = buildStatement({
                subject: subjects as SubjectInput[],
                predicateType,
                predicate: body,
              });
            } catch (error) {
              expect(error).toBeInstanceOf(SignerError);
              expect((error as SignerError).code).toBe('invalid_request');
              return;
            }
            built += 1;
            expect(() => canonicalize(statement)).not.toThrow();
            expect(statement.subject).toHaveLength(subjects.length);
          },
        ),
        { numRuns: 2000, ...SEED },
      );
      expect(built).toBeGreaterThan(0);
    });
  });

  describe('when a body found by fuzzing is built again (regressions)', () => {
    const build =
      (subjects: SubjectInput[], body: Record<string, unknown> = {}) =>
      () =>
        buildStatement({ subject: subjects, predicateType: 'p', predicate: body });
    const invalid = expect.objectContaining({ code: 'invalid_request' });

    it('refuses a digest algorithm named constructor', () => {
      expect(build([{ name: 'a', digest: { sha256: HEX64, constructor: 'ab' } }])).toThrow(invalid);
    });

    it('refuses a predicate with a lone surrogate', () => {
      expect(build([{ name: 'a', digest: { sha256: HEX64 } }], { text: '\uD800' })).toThrow(invalid);
    });
  });
});
