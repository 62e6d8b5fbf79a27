import {
  SignerError,
  type PresentedCredentials,
  type SenderBinding,
  type SenderBindingVerifier,
  type VerifiedOpTok,
} from '@signer/core';
import type { DpopProofVerifier } from './dpop/dpop-proof-verifier';
import { certificateThumbprint, thumbprintMatches } from './mtls/certificate-thumbprint';

export type SenderConstraint = 'dpop' | 'mtls' | 'either';

export interface TokenBindingVerifierOptions {
  senderConstraint: SenderConstraint;
  dpop: DpopProofVerifier;
}

const refuse = (message: string) => new SignerError('invalid_token', message);

/**
 * Enforces that every OpTok is sender-constrained (contract §3): `Authorization: DPoP` needs a
 * `cnf.jkt` token and a valid proof; `Authorization: Bearer` is accepted only for a `cnf.x5t#S256`
 * token over a connection whose client certificate matches it. Unbound tokens are refused.
 */
export class TokenBindingVerifier implements SenderBindingVerifier {
  constructor(private readonly options: TokenBindingVerifierOptions) {}

  async verify(token: VerifiedOpTok, credentials: PresentedCredentials): Promise<SenderBinding> {
    const { senderConstraint } = this.options;
    if (!token.confirmation.jkt && !token.confirmation.x5tS256) {
      throw refuse('expected a sender-constrained token (cnf.jkt or cnf.x5t#S256), got an unbound token');
    }
    if (credentials.scheme === 'DPoP') {
      if (senderConstraint === 'mtls') throw refuse('expected an mTLS-bound Bearer token, got DPoP');
      if (!token.confirmation.jkt) throw refuse('expected a DPoP-bound token (cnf.jkt) with the DPoP scheme');
      const thumbprint = await this.options.dpop.verify(token, credentials);
      return { kind: 'dpop', thumbprint };
    }
    if (senderConstraint === 'dpop') throw refuse('expected the DPoP scheme, got Bearer');
    if (token.confirmation.jkt) throw refuse('expected the DPoP scheme for a DPoP-bound token, got Bearer');
    const expected = token.confirmation.x5tS256;
    const certificate = credentials.clientCertificate;
    if (!expected || !certificate)
      throw refuse('expected a client certificate matching cnf.x5t#S256, got none');
    if (!thumbprintMatches(certificate, expected)) {
      throw refuse(
        'expected the client certificate thumbprint to equal cnf.x5t#S256, got another certificate',
      );
    }
    return { kind: 'mtls', thumbprint: certificateThumbprint(certificate) };
  }
}
