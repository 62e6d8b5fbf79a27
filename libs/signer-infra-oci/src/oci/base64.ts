const STANDARD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const URL_SAFE_UNPADDED = /^[A-Za-z0-9_-]*$/;

/**
 * Bytes of a base64 string, or `undefined` unless it is canonical standard base64 (what the protobuf
 * JSON encoding of Sigstore bundles writes) or unpadded URL-safe base64 (which protobuf parsers also
 * accept). `Buffer.from` alone would skip junk characters and decode something else.
 */
export function decodeBase64(value: unknown): Buffer | undefined {
  if (typeof value !== 'string') return undefined;
  const encoding = STANDARD.test(value) ? 'base64' : URL_SAFE_UNPADDED.test(value) ? 'base64url' : undefined;
  if (!encoding) return undefined;
  const bytes = Buffer.from(value, encoding);
  // Non-zero trailing bits would let two strings decode to the same bytes; refuse them.
  return bytes.toString(encoding) === value ? bytes : undefined;
}
