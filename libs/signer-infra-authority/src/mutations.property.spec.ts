import { createHash } from 'node:crypto';
import type { PresentedCredentials, VerifiedOpTok } from '@signer/core';
import { DpopKey } from '@signer/client';
import { DevAuthority, DEV_AUDIENCE, DEV_ISSUER } from '@signer/dev';
import fc from 'fast-check';
import { createLocalJWKSet } from 'jose';
import { ManualClock } from '@signer/testing';
import { ListNonceStore, SetReplayCache } from '../test/fixtures';
import { DpopProofVerifier } from './dpop/dpop-proof-verifier';
import { CachingTokenVerifier } from './optok/caching-token-verifier';
import { OpTokVerifier } from './optok/optok-verifier';

const NOW = 1_900_000_000;
const URL_ = 'https://signer.example/api/v1/signer/sign/dsse';
/** CI replays one fixed seed (reproducible); locally every run explores new cases (fast-check prints the seed). */
const RUN = { numRuns: 150, ...(process.env['CI'] ? { seed: 20260601 } : {}) };
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';

type Mutation = (jws: string) => string;

const segments = (jws: string) => jws.split('.');
const decodeJson = (segment: string) =>
  JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
const encodeJson = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Byte-level damage anywhere in the compact serialisation. */
const stringMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.constantFrom(...ALPHABET)).map(([at, char]): Mutation => (jws) => {
    const i = at % jws.length;
    return `${jws.slice(0, i)}${char}${jws.slice(i + 1)}`;
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...ALPHABET)).map(([at, char]): Mutation => (jws) => {
    const i = at % (jws.length + 1);
    return `${jws.slice(0, i)}${char}${jws.slice(i)}`;
  }),
  fc.nat().map((at): Mutation => (jws) => {
    const i = at % jws.length;
    return `${jws.slice(0, i)}${jws.slice(i + 1)}`;
  }),
  fc.nat().map(
    (at): Mutation =>
      (jws) =>
        jws.slice(0, at % jws.length),
  ),
  // The last character carries spare bits: most substitutions there decode to the same signature.
  fc.constantFrom(...ALPHABET).map(
    (char): Mutation =>
      (jws) =>
        `${jws.slice(0, -1)}${char}`,
  ),
  fc.constantFrom<Mutation>(
    (jws) => segments(jws).reverse().join('.'),
    (jws) => [segments(jws)[1], segments(jws)[0], segments(jws)[2]].join('.'),
    (jws) => `${jws}.${segments(jws)[2]}`,
  ),
);

/** Semantic damage: one header or payload member set to another JSON value, signature kept. */
const claimMutation: fc.Arbitrary<Mutation> = fc
  .tuple(
    fc.constantFrom(0, 1),
    fc.constantFrom(
      'alg',
      'kid',
      'typ',
      'jwk',
      'iss',
      'aud',
      'exp',
      'nbf',
      'sub',
      'tid',
      'scope',
      'cnf',
      'htm',
      'htu',
      'iat',
      'jti',
      'ath',
      'nonce',
      'crit',
    ),
    fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
  )
  .map(([part, member, value]): Mutation => (jws) => {
    const parts = segments(jws);
    const decoded = decodeJson(parts[part]);
    if (value === undefined) delete decoded[member];
    else decoded[member] = value;
    parts[part] = encodeJson(decoded);
    return parts.join('.');
  });

const anyMutation = fc.oneof(stringMutation, claimMutation);

describe('token and proof mutations (property)', () => {
  let authority: DevAuthority;
  let key: DpopKey;
  let token: string;
  let proof: string;
  const clock = new ManualClock(NOW * 1000);

  beforeAll(async () => {
    authority = await DevAuthority.create();
    key = await DpopKey.generate();
    token = await authority.mint({ now: NOW, jkt: key.thumbprint });
    proof = await key.proof({
      method: 'POST',
      url: URL_,
      accessToken: token,
      iat: NOW,
      jti: 'jti-property-0001',
    });
  });

  describe('when an OpTok is mutated', () => {
    it('is refused with invalid_token, even right after the original was cached', async () => {
      const verifier = new CachingTokenVerifier({
        clock,
        inner: new OpTokVerifier({
          getKey: createLocalJWKSet(authority.jwks()),
          issuer: DEV_ISSUER,
          audience: DEV_AUDIENCE,
          algorithms: ['ES256', 'EdDSA'],
          clockSkewSeconds: 30,
          clock,
        }),
      });
      await expect(verifier.verify(token)).resolves.toMatchObject({ confirmation: { jkt: key.thumbprint } });

      await fc.assert(
        fc.asyncProperty(anyMutation, async (mutate) => {
          const mutated = mutate(token);
          fc.pre(mutated !== token);
          await expect(verifier.verify(mutated)).rejects.toMatchObject({
            name: 'SignerError',
            code: 'invalid_token',
          });
        }),
        RUN,
      );
    });
  });

  describe('when a DPoP proof is mutated', () => {
    const verified = (): VerifiedOpTok => ({
      subject: 's',
      tenant: 't',
      scopes: ['signer.sign'],
      expiresAt: NOW + 300,
      confirmation: { jkt: key.thumbprint },
      tokenHash: createHash('sha256').update(token).digest('base64url'),
    });
    const credentials = (dpopProof: string): PresentedCredentials => ({
      scheme: 'DPoP',
      token,
      dpopProof,
      method: 'POST',
      htu: URL_,
    });
    const verifier = (replay: SetReplayCache) =>
      new DpopProofVerifier({
        algorithms: ['ES256', 'EdDSA'],
        clockSkewSeconds: 30,
        nonce: 'optional',
        nonces: new ListNonceStore(),
        replay,
        clock,
      });

    it('is refused with invalid_dpop_proof, never consuming its jti', async () => {
      await expect(verifier(new SetReplayCache()).verify(verified(), credentials(proof))).resolves.toBe(
        key.thumbprint,
      );
      const replay = new SetReplayCache();
      const shared = verifier(replay);

      await fc.assert(
        fc.asyncProperty(anyMutation, async (mutate) => {
          const mutated = mutate(proof);
          fc.pre(mutated !== proof);
          await expect(shared.verify(verified(), credentials(mutated))).rejects.toMatchObject({
            name: 'SignerError',
            code: 'invalid_dpop_proof',
          });
        }),
        RUN,
      );
      expect(replay.seen.size).toBe(0);
    });
  });
});
