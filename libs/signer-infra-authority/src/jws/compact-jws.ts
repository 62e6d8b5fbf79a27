/** A compact JWS split into its parts, each segment decoded once. */
export interface CompactJws {
  /** The protected header's segment as sent (base64url). */
  encodedHeader: string;
  header: Buffer;
  payload: Buffer;
  signature: Buffer;
  /** ASCII bytes of `header.payload`: what the signature covers (RFC 7515 §5.2). */
  signingInput: Buffer;
}

/**
 * The bytes of a canonical base64url segment, or null. Node's decoder skips characters outside the
 * alphabet and stops at padding, and ignores spare bits, so any of those makes the re-encoding differ.
 */
function decodeCanonical(segment: string): Buffer | null {
  if (segment.length === 0) return null;
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.toString('base64url') === segment ? bytes : null;
}

/**
 * Splits one compact JWS whose three segments are canonical base64url (RFC 7515 §2, RFC 4648
 * §3.5: no padding, unused trailing bits zero), or returns null. Decoders ignore the trailing
 * bits, so without this check up to 16 spellings of one signature verify alike: refusing all but
 * the canonical one keeps "another string" meaning "another token" for caches, logs and audit.
 */
export function parseCompactJws(value: string): CompactJws | null {
  const segments = value.split('.');
  if (segments.length !== 3) return null;
  const [encodedHeader, encodedPayload, encodedSignature] = segments;
  const header = decodeCanonical(encodedHeader);
  const payload = header && decodeCanonical(encodedPayload);
  const signature = payload && decodeCanonical(encodedSignature);
  if (!header || !payload || !signature) return null;
  const signingInput = Buffer.from(value.slice(0, encodedHeader.length + 1 + encodedPayload.length), 'ascii');
  return { encodedHeader, header, payload, signature, signingInput };
}

/** True when `value` is one compact JWS with canonical base64url segments (see {@link parseCompactJws}). */
export function isCanonicalCompactJws(value: string): boolean {
  return parseCompactJws(value) !== null;
}
