import { createPublicKey, verify } from 'node:crypto';

/**
 * DSSE verification written from the spec with node:crypto only — deliberately not our library
 * code — so a test that passes proves interoperability, not self-consistency.
 */
export function verifyDsseIndependently(
  envelope: { payloadType: string; payload: string; signatures: Array<{ sig: string }> },
  publicKeyPem: string,
): boolean {
  const payload = Buffer.from(envelope.payload, 'base64');
  const type = Buffer.from(envelope.payloadType, 'utf8');
  const pae = Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} ${envelope.payloadType} ${payload.length} `),
    payload,
  ]);
  const key = createPublicKey(publicKeyPem);
  const signature = Buffer.from(envelope.signatures[0].sig, 'base64');
  const digest = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  return verify(digest, pae, key, signature);
}
