import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseSimpleSigning } from '../cosign/simple-signing';
import { OciLayoutStore } from '../oci-layout/layout-store';
import { statementClaims } from '../sigstore-bundle/in-toto-claims';
import { parseSigstoreBundle } from '../sigstore-bundle/sigstore-bundle';
import { parseDescriptor, parseIndexManifests, parseJson, parseManifest, SHA256_DIGEST } from './descriptor';

/** CI replays one fixed seed (reproducible); locally every run explores new cases (fast-check prints the seed). */
const SEED = process.env['CI'] ? { seed: 20261128 } : {};
const DIGEST = `sha256:${'ab'.repeat(32)}`;

/** Member names the parsers read, plus names that collide with Object.prototype. */
const KEYS = [
  '_type',
  'subject',
  'digest',
  'sha256',
  'annotations',
  'mediaType',
  'size',
  'artifactType',
  'config',
  'layers',
  'manifests',
  'critical',
  'image',
  'docker-manifest-digest',
  'type',
  'identity',
  'optional',
  'dsseEnvelope',
  'messageSignature',
  'payload',
  'payloadType',
  'signatures',
  'sig',
  'verificationMaterial',
  'toString',
  'valueOf',
  '__proto__',
  'constructor',
  'hasOwnProperty',
];

/** JSON text built by hand, so `__proto__` and `toString` arrive as own members as an attacker sends them. */
const { json: jsonText } = fc.letrec<{ json: string; object: string; array: string }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('null', 'true', 'false', '0', '-1', '1e400', '"sha256:"', `"${DIGEST}"`),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
    fc.string().map((s) => JSON.stringify(s)),
    tie('object'),
    tie('array'),
  ),
  object: fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...KEYS), fc.string()), tie('json')), { maxLength: 6 })
    .map((members) => `{${members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  array: fc.array(tie('json'), { maxLength: 5 }).map((items) => `[${items.join(',')}]`),
}));
const bytes = fc.oneof(
  { weight: 3, arbitrary: jsonText.map((text) => Buffer.from(text)) },
  fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)),
);

describe('OCI JSON parsers', () => {
  describe('when given random JSON or random bytes', () => {
    it('never throw, and a descriptor they return has a strict sha256 digest', () => {
      fc.assert(
        fc.property(bytes, (input) => {
          const value = parseJson(input);
          const descriptor = parseDescriptor(value);
          if (descriptor) {
            expect(descriptor.digest).toMatch(SHA256_DIGEST);
            expect(Number.isSafeInteger(descriptor.size) && descriptor.size >= 0).toBe(true);
          }
          parseManifest(input);
          parseIndexManifests(value)?.forEach((d) => expect(d.digest).toMatch(SHA256_DIGEST));
          parseSigstoreBundle(input);
          parseSimpleSigning(input);
          expect(['names-digest', 'other-digest', 'malformed']).toContain(
            statementClaims(input, DIGEST).kind,
          );
        }),
        { numRuns: 3000, ...SEED },
      );
    });
  });

  describe('when a member is named like an Object.prototype method (regression)', () => {
    it('reads a statement whose _type is an object with a toString member as malformed', () => {
      expect(statementClaims(Buffer.from('{"_type":{"toString":1},"subject":[]}'), DIGEST)).toEqual({
        kind: 'malformed',
      });
    });
  });
});

describe('OciLayoutStore.readBlob', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'oci-fuzz-'));
    mkdirSync(join(root, 'blobs', 'sha256'), { recursive: true });
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  describe('when the stored bytes do not hash to the descriptor digest', () => {
    it('never reports them intact', async () => {
      const store = new OciLayoutStore(root);
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: 1, maxLength: 256 }),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          fc.boolean(),
          async (raw, at, flip, lieAboutSize) => {
            const good = Buffer.from(raw);
            const hex = createHash('sha256').update(good).digest('hex');
            const stored = Buffer.from(good);
            stored[at % stored.length] ^= flip;
            writeFileSync(join(root, 'blobs', 'sha256', hex), stored);
            const size = lieAboutSize ? good.length + 1 : good.length;
            const blob = await store.readBlob(
              { mediaType: 'x', digest: `sha256:${hex}`, size, annotations: {} },
              1024,
            );
            expect(blob?.intact ?? false).toBe(false);
            expect(await store.readDigest(`sha256:${hex}`, 1024)).toBeUndefined();
            writeFileSync(join(root, 'blobs', 'sha256', hex), good);
            const intact = await store.readBlob(
              { mediaType: 'x', digest: `sha256:${hex}`, size, annotations: {} },
              1024,
            );
            expect(intact?.intact).toBe(!lieAboutSize);
          },
        ),
        { numRuns: 300, ...SEED },
      );
    });
  });
});
