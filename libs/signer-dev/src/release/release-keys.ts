import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';

export type ReleaseKeyKind = 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519' | 'rsa';

export interface ReleaseKey {
  kind: ReleaseKeyKind;
  privateKey: KeyObject;
  publicKeyPem: string;
}

/** A fresh release-signing key pair, as an operator would make with `cosign generate-key-pair`. */
export function generateReleaseKey(kind: ReleaseKeyKind = 'ecdsa-p256'): ReleaseKey {
  const { privateKey, publicKey } =
    kind === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : kind === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: kind === 'ecdsa-p384' ? 'P-384' : 'P-256' });
  return { kind, privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/**
 * The hash each key kind signs with, following the sigstore algorithm registry defaults
 * (ECDSA P-384 pairs with SHA-384; Ed25519 signs the message itself; RSA is PKCS#1 v1.5).
 */
function releaseKeyHash(kind: ReleaseKeyKind): string | null {
  if (kind === 'ed25519') return null;
  return kind === 'ecdsa-p384' ? 'sha384' : 'sha256';
}

/** Signs the payload bytes the way cosign does: DER for ECDSA, raw for Ed25519, PKCS#1 v1.5 for RSA. */
export function signWithReleaseKey(key: ReleaseKey, payload: Uint8Array): Buffer {
  return sign(releaseKeyHash(key.kind), payload, key.privateKey);
}

/** Writes the public keys, one `PUBLIC KEY` block after another, as a trusted-keys PEM file. */
export function writePublicKeysFile(path: string, keys: readonly ReleaseKey[]): string {
  writeFileSync(path, keys.map((key) => key.publicKeyPem).join(''));
  return path;
}
