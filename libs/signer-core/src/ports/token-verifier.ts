import type { VerifiedOpTok } from '../model';

/**
 * Verifies an Authority-issued OpTok (signature, issuer, audience, lifetime, algorithm allow-list).
 * Contract: any token that is not provably valid must be an error with code `invalid_token`;
 * it must never return a partially checked token.
 */
export interface TokenVerifier {
  verify(token: string): Promise<VerifiedOpTok>;
}
