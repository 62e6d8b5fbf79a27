import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { SignerError } from '../errors';

/**
 * The stable identity of a public key: `sha256:<hex>` of its SPKI DER (contract §11). The same
 * form the release verifier uses for trusted keys, so one fingerprint names a key everywhere —
 * DSSE `keyid`, `/keys`, audit records — whatever its label, PEM formatting or reference.
 */
/** A private key is fingerprinted by its public half. */
export function spkiFingerprint(publicKey: string | KeyObject): string {
  const given = typeof publicKey === 'string' ? parsePublicKey(publicKey) : publicKey;
  const key = given.type === 'private' ? createPublicKey(given) : given;
  const der = key.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/** The canonical SPKI PEM of a public key given as PEM (reformatted, so equal keys print equal). */
export function canonicalPublicKeyPem(publicKeyPem: string): string {
  return parsePublicKey(publicKeyPem).export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * Why a release verifier could not check signatures of this key, or undefined when it can:
 * ECDSA P-256/P-384, Ed25519, or RSA of at least 2048 bits (the release verifier's set).
 */
export function anchorKeyProblem(publicKeyPem: string): string | undefined {
  const key = parsePublicKey(publicKeyPem);
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ed25519') return undefined;
  if (key.asymmetricKeyType === 'ec' && ['prime256v1', 'secp384r1'].includes(details.namedCurve ?? ''))
    return undefined;
  if (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) return undefined;
  const got = key.asymmetricKeyType === 'ec' ? `ec ${details.namedCurve}` : key.asymmetricKeyType;
  return `expected an ECDSA P-256/P-384, Ed25519 or RSA >= 2048 key, got ${got ?? 'unknown'}`;
}

export const FINGERPRINT_PATTERN = /^sha256:[0-9a-f]{64}$/;

function parsePublicKey(pem: string): KeyObject {
  try {
    const key = createPublicKey({ key: pem, format: 'pem' });
    if (key.type !== 'public') throw new Error(`expected a public key, got ${key.type}`);
    return key;
  } catch (cause) {
    // The parser's message stays in the cause: it could quote key bytes.
    throw new SignerError('invalid_request', 'expected a PEM public key (SPKI)', { cause });
  }
}
