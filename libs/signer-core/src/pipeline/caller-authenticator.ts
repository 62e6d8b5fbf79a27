import type { SenderBinding, VerifiedOpTok } from '../model';
import type { PresentedCredentials, SenderBindingVerifier } from '../ports/sender-binding-verifier';
import type { TokenVerifier } from '../ports/token-verifier';
import { assertAnyScope } from '../policies/caller';
import { parseAuthorization } from './authorization';
import type { DecisionTrail } from './decision-trail';

export interface CallerCredentials {
  authorization?: string;
  dpopProof?: string;
  method: string;
  htu: string;
  clientCertificate?: Buffer;
}

export interface AuthenticatedCaller {
  token: VerifiedOpTok;
  binding: SenderBinding;
}

/** Gates 1–3 of every authenticated route: OpTok → sender binding → scope. */
export class CallerAuthenticator {
  constructor(
    private readonly tokens: TokenVerifier,
    private readonly binding: SenderBindingVerifier,
    private readonly requiredScope: string,
  ) {}

  /**
   * `requiredScopes`: routes other than signing name their own scopes; the token needs any one of
   * them (default: the signing scope).
   */
  async authenticate(
    credentials: CallerCredentials,
    trail: DecisionTrail,
    requiredScopes: readonly string[] = [this.requiredScope],
  ): Promise<AuthenticatedCaller> {
    const { scheme, token: raw } = await trail.gate('optok', () =>
      parseAuthorization(credentials.authorization),
    );
    const token = await trail.gate('optok', () => this.tokens.verify(raw));
    trail.record.tenant = token.tenant;
    trail.record.installation = token.installation;
    trail.record.caller = { sub: token.subject, clientId: token.clientId, tokenJti: token.jti };
    const presented: PresentedCredentials = {
      scheme,
      token: raw,
      dpopProof: credentials.dpopProof,
      method: credentials.method,
      htu: credentials.htu,
      clientCertificate: credentials.clientCertificate,
    };
    const binding = await trail.gate('binding', () => this.binding.verify(token, presented));
    trail.record.binding = { kind: binding.kind, thumbprint: binding.thumbprint };
    await trail.gate('scope', () => assertAnyScope(token, requiredScopes));
    return { token, binding };
  }
}
