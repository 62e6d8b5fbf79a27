import fc from 'fast-check';
import { SignerError } from '../errors';
import { parseAuthorization } from './authorization';

/** CI replays one fixed seed (reproducible); locally every run explores new cases (fast-check prints the seed). */
const SEED = process.env['CI'] ? { seed: 20261128 } : {};
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const header = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc
    .tuple(
      fc.constantFrom('DPoP', 'dpop', 'Bearer', 'BEARER', 'Basic', 'DPoP,', ''),
      fc.constantFrom(' ', '  ', '\t', ''),
      fc.string({ unit: 'grapheme-ascii', maxLength: 120 }),
    )
    .map(([scheme, gap, rest]) => `${scheme}${gap}${rest}`),
);

describe('parseAuthorization', () => {
  describe('when the header is any string', () => {
    it('returns a known scheme and a token68, or throws SignerError invalid_token', () => {
      fc.assert(
        fc.property(fc.option(header, { nil: undefined }), (value) => {
          let parsed;
          try {
            parsed = parseAuthorization(value);
          } catch (error) {
            expect(error).toBeInstanceOf(SignerError);
            expect((error as SignerError).code).toBe('invalid_token');
            // The message is logged: it must never carry the presented header.
            if (value && value.trim().length > 8)
              expect((error as SignerError).message).not.toContain(value.trim());
            return;
          }
          expect(['DPoP', 'Bearer']).toContain(parsed.scheme);
          expect(parsed.token).toMatch(TOKEN);
          expect(value).toContain(parsed.token);
        }),
        { numRuns: 3000, ...SEED },
      );
    });
  });
});
