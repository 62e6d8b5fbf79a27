import type { EntitlementClaims, PoeFormat } from '../model';

export interface PoePresentation {
  format: PoeFormat;
  /** The PoE JWT (format `jwt`). Never logged. */
  value?: string;
  /** DER of the TLS client certificate (format `mtls`). */
  clientCertificate?: Buffer;
}

/**
 * Obtains the Licensing decision for a PoE (online introspection or offline JWT).
 * Contract: returns the claims exactly as Licensing states them (policies judge them); a PoE that
 * cannot be authenticated is `entitlement_denied`; Licensing unreachable is `upstream_unavailable`.
 */
export interface EntitlementVerifier {
  verify(poe: PoePresentation): Promise<EntitlementClaims>;
}
