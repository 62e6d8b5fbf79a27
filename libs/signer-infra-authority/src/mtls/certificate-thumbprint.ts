import { createHash, timingSafeEqual } from 'node:crypto';

/** RFC 8705 §3.1: `x5t#S256` is base64url(SHA-256(DER of the client certificate)). */
export function certificateThumbprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('base64url');
}

export function thumbprintMatches(der: Buffer, expected: string): boolean {
  const actual = Buffer.from(certificateThumbprint(der));
  const wanted = Buffer.from(expected);
  return actual.length === wanted.length && timingSafeEqual(actual, wanted);
}
