import { createHmac } from 'node:crypto';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsecured JWT (`alg: none`) carrying otherwise valid claims. */
export function unsecuredJwt(claims: Record<string, unknown>): string {
  return `${b64url({ alg: 'none', typ: 'at+jwt' })}.${b64url(claims)}.`;
}

/** The classic key-confusion attack: HS256 with the Authority's public key as the HMAC secret. */
export function hmacWithPublicKey(
  claims: Record<string, unknown>,
  publicKeyText: string,
  kid: string,
): string {
  const signingInput = `${b64url({ alg: 'HS256', typ: 'at+jwt', kid })}.${b64url(claims)}`;
  return `${signingInput}.${createHmac('sha256', publicKeyText).update(signingInput).digest('base64url')}`;
}

export function decodeClaims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}
