import { SignerError } from '../errors';

const AUTHORIZATION = /^(DPoP|Bearer) +([A-Za-z0-9\-._~+/]+=*)$/i;

/** Parses `Authorization: DPoP <token>` or `Bearer <token>` (scheme case-insensitive, RFC 9110 §11.1). */
export function parseAuthorization(header: string | undefined): { scheme: 'DPoP' | 'Bearer'; token: string } {
  if (!header) throw new SignerError('invalid_token', 'expected an Authorization header, got none');
  const match = AUTHORIZATION.exec(header.trim());
  if (!match)
    throw new SignerError(
      'invalid_token',
      'expected Authorization: DPoP or Bearer with a token, got another form',
    );
  const scheme = match[1].toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
  return { scheme, token: match[2] };
}
