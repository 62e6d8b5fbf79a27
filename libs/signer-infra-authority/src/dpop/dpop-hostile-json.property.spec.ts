import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import type { PresentedCredentials, VerifiedOpTok } from '@signer/core';
import { SignerError } from '@signer/core';
import fc from 'fast-check';
import { ManualClock } from '@signer/testing';
import { ListNonceStore, SetReplayCache } from '../../test/fixtures';
import { DpopProofVerifier } from './dpop-proof-verifier';

/** CI replays one fixed seed (reproducible); locally every run explores new cases (fast-check prints the seed). */
const SEED = process.env['CI'] ? { seed: 20261128 } : {};
const NOW = 1_900_000_000;
const URL_ = 'https://signer.example/api/v1/signer/sign/dsse';
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const JWK = publicKey.export({ format: 'jwk' });

/** JSON values whose objects may carry members that shadow Object.prototype (`toString`, `valueOf`). */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom({ toString: 1 }, { valueOf: 'x', toString: null }, { toString: {} }, ['dpop+jwt']),
);
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const signed = (header: Record<string, unknown>, payload: Record<string, unknown>) => {
  const input = `${encode(header)}.${encode(payload)}`;
  return `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
};

describe('DpopProofVerifier with hostile JSON members', () => {
  const token: VerifiedOpTok = {
    subject: 's',
    tenant: 't',
    scopes: ['signer.sign'],
    expiresAt: NOW + 300,
    confirmation: { jkt: 'not-this-key' },
    tokenHash: createHash('sha256').update('opaque-token').digest('base64url'),
  };
  const credentials = (dpopProof: string): PresentedCredentials => ({
    scheme: 'DPoP',
    token: 'opaque-token',
    dpopProof,
    method: 'POST',
    htu: URL_,
  });
  const verifier = new DpopProofVerifier({
    algorithms: ['ES256', 'EdDSA'],
    clockSkewSeconds: 30,
    nonce: 'optional',
    nonces: new ListNonceStore(),
    replay: new SetReplayCache(),
    clock: new ManualClock(NOW * 1000),
  });
  const expectRefusal = async (proof: string) => {
    const error = await verifier.verify(token, credentials(proof)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignerError);
    expect((error as SignerError).code).toBe('invalid_dpop_proof');
  };

  describe('when a header member is any JSON value', () => {
    it('refuses with invalid_dpop_proof and nothing else', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('typ', 'alg', 'jwk', 'crit'),
          hostileValue,
          async (member, value) => {
            await expectRefusal(signed({ typ: 'dpop+jwt', alg: 'EdDSA', jwk: JWK, [member]: value }, {}));
          },
        ),
        { numRuns: 300, ...SEED },
      );
    });
  });

  describe('when a signed payload member is any JSON value', () => {
    it('refuses with invalid_dpop_proof and nothing else', async () => {
      const base = { jti: 'jti-hostile-0001', htm: 'POST', htu: URL_, iat: NOW };
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('jti', 'htm', 'htu', 'iat', 'exp', 'nbf', 'ath', 'nonce'),
          hostileValue,
          async (member, value) => {
            await expectRefusal(
              signed({ typ: 'dpop+jwt', alg: 'EdDSA', jwk: JWK }, { ...base, [member]: value }),
            );
          },
        ),
        { numRuns: 300, ...SEED },
      );
    });
  });

  describe('when typ, alg or htm is an object with a toString member (regression)', () => {
    it.each([
      ['typ', { typ: { toString: 1 }, alg: 'EdDSA', jwk: JWK }, {}],
      ['alg', { typ: 'dpop+jwt', alg: { toString: 1 }, jwk: JWK }, {}],
      ['htm', { typ: 'dpop+jwt', alg: 'EdDSA', jwk: JWK }, { jti: 'jti-hostile-0002', htm: { toString: 1 } }],
    ])('refuses a hostile %s with invalid_dpop_proof', async (_member, header, payload) => {
      await expectRefusal(signed(header, payload));
    });
  });
});
