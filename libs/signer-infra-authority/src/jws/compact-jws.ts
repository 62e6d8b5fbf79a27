const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * True when `value` is one compact JWS whose three segments are canonical base64url (RFC 7515
 * §2, RFC 4648 §3.5: no padding, unused trailing bits zero). Decoders ignore the trailing bits,
 * so without this check up to 16 spellings of one signature verify alike: refusing all but the
 * canonical one keeps "another string" meaning "another token" for caches, logs and audit.
 */
export function isCanonicalCompactJws(value: string): boolean {
  const segments = value.split('.');
  if (segments.length !== 3) return false;
  return segments.every(
    (segment) =>
      segment.length > 0 &&
      SEGMENT.test(segment) &&
      segment.length % 4 !== 1 &&
      Buffer.from(segment, 'base64url').toString('base64url') === segment,
  );
}
