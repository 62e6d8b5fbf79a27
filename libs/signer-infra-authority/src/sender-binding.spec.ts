import type { PresentedCredentials, VerifiedOpTok } from '@signer/core';
import { DevPki, type IssuedCertificate } from '@signer/testing';
import { ManualClock } from '@signer/testing';
import { ListNonceStore, SetReplayCache } from '../test/fixtures';
import { DpopProofVerifier } from './dpop/dpop-proof-verifier';
import { TokenBindingVerifier, type SenderConstraint } from './sender-binding';

const NOW = 1_900_000_000;

describe('TokenBindingVerifier', () => {
  let pki: DevPki;
  let mine: IssuedCertificate;
  let other: IssuedCertificate;

  beforeAll(async () => {
    pki = await DevPki.create();
    [mine, other] = await Promise.all([pki.issueClient('mine'), pki.issueClient('other')]);
  });

  const verifier = (senderConstraint: SenderConstraint = 'either') =>
    new TokenBindingVerifier({
      senderConstraint,
      dpop: new DpopProofVerifier({
        algorithms: ['ES256'],
        clockSkewSeconds: 30,
        nonce: 'optional',
        nonces: new ListNonceStore(),
        replay: new SetReplayCache(),
        clock: new ManualClock(NOW * 1000),
      }),
    });
  const token = (confirmation: VerifiedOpTok['confirmation']): VerifiedOpTok => ({
    subject: 's',
    tenant: 't',
    scopes: ['signer.sign'],
    expiresAt: NOW + 300,
    confirmation,
    tokenHash: 'h',
  });
  const bearer = (clientCertificate?: Buffer): PresentedCredentials => ({
    scheme: 'Bearer',
    token: 'a.b.c',
    method: 'POST',
    htu: 'https://signer.example/api/v1/signer/sign/dsse',
    clientCertificate,
  });

  describe('when an mTLS-bound token comes with its certificate', () => {
    it('returns the mtls binding with the certificate thumbprint', async () => {
      await expect(verifier().verify(token({ x5tS256: mine.thumbprint }), bearer(mine.der))).resolves.toEqual(
        {
          kind: 'mtls',
          thumbprint: mine.thumbprint,
        },
      );
    });
  });

  describe('when the binding does not hold', () => {
    // Certificates exist only after beforeAll, so each row names them through a function.
    it.each<[string, () => VerifiedOpTok['confirmation'], () => Buffer | undefined, SenderConstraint]>([
      ['no client certificate', () => ({ x5tS256: mine.thumbprint }), () => undefined, 'either'],
      ['another certificate', () => ({ x5tS256: mine.thumbprint }), () => other.der, 'either'],
      ['an unbound token', () => ({}), () => mine.der, 'either'],
      ['a DPoP-bound token sent as Bearer', () => ({ jkt: 'j' }), () => mine.der, 'either'],
      ['Bearer when only DPoP is allowed', () => ({ x5tS256: mine.thumbprint }), () => mine.der, 'dpop'],
    ])('refuses %s with invalid_token', async (_name, confirmation, certificate, constraint) => {
      await expect(
        verifier(constraint).verify(token(confirmation()), bearer(certificate())),
      ).rejects.toMatchObject({
        code: 'invalid_token',
      });
    });
    it('refuses the DPoP scheme when only mTLS is allowed', async () => {
      await expect(
        verifier('mtls').verify(token({ jkt: 'j' }), { ...bearer(), scheme: 'DPoP', dpopProof: 'a.b.c' }),
      ).rejects.toMatchObject({ code: 'invalid_token' });
    });
    it('refuses an mTLS-bound token sent with the DPoP scheme', async () => {
      await expect(
        verifier().verify(token({ x5tS256: mine.thumbprint }), {
          ...bearer(mine.der),
          scheme: 'DPoP',
          dpopProof: 'a.b.c',
        }),
      ).rejects.toMatchObject({ code: 'invalid_token' });
    });
  });
});
