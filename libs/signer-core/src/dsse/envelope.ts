import type { DsseEnvelope } from '../model';

/** A single-signature DSSE envelope with standard base64 (not base64url) encodings. */
export function dsseEnvelope(
  payloadType: string,
  payload: Buffer,
  keyid: string,
  signature: Buffer,
): DsseEnvelope {
  return {
    payloadType,
    payload: payload.toString('base64'),
    signatures: [{ keyid, sig: signature.toString('base64') }],
  };
}
