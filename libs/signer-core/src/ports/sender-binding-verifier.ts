import type { SenderBinding, VerifiedOpTok } from '../model';

/** What the transport tells us about how the token was presented. */
export interface PresentedCredentials {
  /** `DPoP` or `Bearer`, from the Authorization header. */
  scheme: 'DPoP' | 'Bearer';
  /** The raw OpTok (needed for the DPoP `ath` check); never logged. */
  token: string;
  /** The `DPoP` header, when present. */
  dpopProof?: string;
  /** HTTP method, upper case. */
  method: string;
  /** The request URL as seen at the public base URL, without query or fragment. */
  htu: string;
  /** DER of the TLS client certificate, when the connection presented one that chains to the CA. */
  clientCertificate?: Buffer;
}

/**
 * Proves the caller holds the key the token is bound to (DPoP RFC 9449 or mTLS RFC 8705).
 * Contract: a token without a binding, or a binding that does not match, must be an error
 * (`invalid_token`, `invalid_dpop_proof` or `use_dpop_nonce`); success means proof of possession.
 */
export interface SenderBindingVerifier {
  verify(token: VerifiedOpTok, credentials: PresentedCredentials): Promise<SenderBinding>;
}
