import { generateKeyPairSync } from 'node:crypto';
import { SignerError } from '@signer/core';
import fc from 'fast-check';
import { parseTrustedKeys } from './trusted-keys';

/** CI replays one fixed seed (reproducible); locally every run explores new cases (fast-check prints the seed). */
const SEED = process.env['CI'] ? { seed: 20261128 } : {};
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n -';

/** Public keys of supported and unsupported kinds, and one private key, as PEM. */
const PEMS = [
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
  generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey,
  generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey,
  generateKeyPairSync('ed25519').publicKey,
  generateKeyPairSync('x25519').publicKey,
  generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
  generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey,
].map((key) => key.export({ type: 'spki', format: 'pem' }).toString());
PEMS.push(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());

const mutatedPem = fc
  .tuple(
    fc.constantFrom(...PEMS),
    fc.array(fc.tuple(fc.nat(), fc.constantFrom(...B64), fc.integer({ min: 0, max: 2 })), { maxLength: 3 }),
  )
  .map(([pem, edits]) =>
    edits.reduce((text, [at, char, how]) => {
      const i = at % text.length;
      if (how === 0) return `${text.slice(0, i)}${char}${text.slice(i + 1)}`;
      if (how === 1) return `${text.slice(0, i)}${char}${text.slice(i)}`;
      return `${text.slice(0, i)}${text.slice(i + 1)}`;
    }, pem),
  );
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  mutatedPem,
  fc.array(mutatedPem, { minLength: 2, maxLength: 3 }).map((pems) => pems.join('\n')),
  fc
    .tuple(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 200 }))
    .map(([label, body]) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`),
  fc
    .uint8Array({ maxLength: 200 })
    .map(
      (der) =>
        `-----BEGIN PUBLIC KEY-----\n${Buffer.from(der).toString('base64')}\n-----END PUBLIC KEY-----\n`,
    ),
);

describe('parseTrustedKeys', () => {
  describe('when the trust file is random text or mutated PEM', () => {
    it('returns supported keys or throws its SignerError, never another exception', () => {
      fc.assert(
        fc.property(text, (pem) => {
          let keys;
          try {
            keys = parseTrustedKeys(pem, 'fuzz.pem');
          } catch (error) {
            expect(error).toBeInstanceOf(SignerError);
            expect((error as SignerError).code).toBe('internal_error');
            expect((error as SignerError).message).toMatch(/^trusted keys fuzz\.pem: /);
            return;
          }
          expect(keys.length).toBeGreaterThan(0);
          for (const key of keys) {
            expect(['ed25519', 'ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'rsa-pkcs1v15-sha256']).toContain(
              key.algorithm,
            );
            expect(key.keyId).toMatch(/^sha256:[0-9a-f]{64}$/);
          }
        }),
        { numRuns: 1500, ...SEED },
      );
    });
  });
});
