/** A DSSE v1 envelope as the Signer returns it (standard base64 fields). */
export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: { keyid?: string; sig: string }[];
}

/**
 * DSSE v1 Pre-Authentication Encoding, `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`.
 * Kept here rather than imported so a caller verifies with code independent of the server's.
 *
 * @see https://github.com/secure-systems-lab/dsse/blob/master/protocol.md
 */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `),
    type,
    Buffer.from(` ${payload.length} `),
    payload,
  ]);
}

const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Decodes base64 or base64url (DSSE allows either) and refuses anything that does not re-encode
 * to the same text: Node's decoder silently skips stray characters, which would let a modified
 * envelope still verify.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const encoding = STANDARD.test(text) ? 'base64' : URL_SAFE.test(text) ? 'base64url' : undefined;
  if (encoding === undefined) return undefined;
  const bytes = Buffer.from(text, encoding);
  const unpadded = text.replace(/=+$/, '');
  return bytes.toString(encoding).replace(/=+$/, '') === unpadded ? bytes : undefined;
}
