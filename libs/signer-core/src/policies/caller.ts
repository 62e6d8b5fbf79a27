import { SignerError } from '../errors';
import type { EntitlementClaims, VerifiedOpTok } from '../model';

/** The token must carry the required scope (space-separated `scope` claim). */
export function assertScope(token: VerifiedOpTok, requiredScope: string): void {
  if (!token.scopes.includes(requiredScope)) {
    throw new SignerError(
      'insufficient_scope',
      `expected scope ${requiredScope}, got [${token.scopes.join(' ')}]`,
    );
  }
}

/** The token must carry at least one of `scopes` (a route that several roles may call). */
export function assertAnyScope(token: VerifiedOpTok, scopes: readonly string[]): void {
  if (scopes.length === 1) return assertScope(token, scopes[0]);
  if (!scopes.some((scope) => token.scopes.includes(scope))) {
    throw new SignerError(
      'insufficient_scope',
      `expected one of the scopes ${scopes.join(', ')}, got [${token.scopes.join(' ')}]`,
    );
  }
}

/**
 * The token's tenant must equal the PoE's tenant; when the PoE is bound to an installation the
 * token must name the same installation (a token without `inst` cannot use an installation-bound PoE).
 */
export function assertTenantBinding(token: VerifiedOpTok, entitlement: EntitlementClaims): void {
  if (token.tenant !== entitlement.tenant) {
    throw new SignerError(
      'tenant_mismatch',
      'expected the PoE tenant to equal the token tenant, got another tenant',
    );
  }
  if (entitlement.installation !== undefined && token.installation !== entitlement.installation) {
    throw new SignerError(
      'tenant_mismatch',
      'expected the token installation to equal the PoE installation, got another or none',
    );
  }
}
