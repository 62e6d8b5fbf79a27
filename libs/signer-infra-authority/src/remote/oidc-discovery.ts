import { upstreamUrlProblem } from '@signer/core';
import { DocumentFetchError, fetchJsonObject, type FetchJsonOptions } from './fetch-json';

export const DISCOVERY_PATH = '/.well-known/openid-configuration';

/** OpenID Connect Discovery 1.0 §4: the configuration document lives under the issuer's path. */
function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}${DISCOVERY_PATH}`;
}

/**
 * Reads `jwks_uri` from the issuer's discovery document. The document must name the configured
 * issuer exactly (Discovery §4.3: otherwise it may be another Authority's), and `jwks_uri` must
 * be an https URL (http only on loopback).
 */
export async function discoverJwksUri(issuer: string, options: FetchJsonOptions): Promise<string> {
  const document = await fetchJsonObject(discoveryUrl(issuer), options);
  if (document['issuer'] !== issuer) {
    throw new DocumentFetchError(
      'discovery: expected the document issuer to equal authority.issuer, got another',
    );
  }
  const jwksUri = document['jwks_uri'];
  if (typeof jwksUri !== 'string')
    throw new DocumentFetchError('discovery: expected a jwks_uri string, got none');
  const problem = upstreamUrlProblem(jwksUri);
  if (problem) throw new DocumentFetchError(`discovery: jwks_uri ${problem}`);
  return jwksUri;
}
