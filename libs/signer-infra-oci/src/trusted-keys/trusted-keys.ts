import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SignerError, type PublicKeyInfo } from '@signer/core';

/**
 * How a trusted key's signatures are checked. RSA is PKCS#1 v1.5 with SHA-256 only (what cosign
 * produces for RSA keys); RSASSA-PSS keys are refused at load rather than silently never matching.
 */
export type TrustedKeyAlgorithm =
  'ecdsa-p256-sha256' | 'ecdsa-p384-sha384' | 'ed25519' | 'rsa-pkcs1v15-sha256';

export interface TrustedKey extends PublicKeyInfo {
  /** `sha256:<hex>` of the SPKI DER: stable across PEM formatting and file moves. */
  keyId: string;
  algorithm: TrustedKeyAlgorithm;
  publicKey: KeyObject;
}

/** Below this an RSA release key is refused: NIST SP 800-131A disallows it for signatures. */
export const MIN_RSA_MODULUS_BITS = 2048;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function refuse(source: string, message: string, cause?: unknown): SignerError {
  return new SignerError('internal_error', `trusted keys ${source}: ${message}`, { cause });
}

function algorithmOf(key: KeyObject, source: string): TrustedKeyAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return 'ed25519';
    case 'ec':
      if (details.namedCurve === 'prime256v1') return 'ecdsa-p256-sha256';
      if (details.namedCurve === 'secp384r1') return 'ecdsa-p384-sha384';
      throw refuse(
        source,
        `expected an EC key on P-256 or P-384, got ${details.namedCurve ?? 'an unknown curve'}`,
      );
    case 'rsa':
      if ((details.modulusLength ?? 0) >= MIN_RSA_MODULUS_BITS) return 'rsa-pkcs1v15-sha256';
      throw refuse(
        source,
        `expected an RSA modulus >= ${MIN_RSA_MODULUS_BITS} bits, got ${details.modulusLength}`,
      );
    default:
      throw refuse(
        source,
        `expected an ECDSA, Ed25519 or RSA key, got ${key.asymmetricKeyType ?? 'unknown'}`,
      );
  }
}

/**
 * The keys in a PEM text. Every block must be a `PUBLIC KEY` (SPKI) of a supported kind: a
 * certificate or private key in a trust file is a configuration mistake, refused at boot.
 */
export function parseTrustedKeys(pem: string, source: string): TrustedKey[] {
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) throw refuse(source, 'expected at least one PEM PUBLIC KEY block, got none');
  return blocks.map(([block, label]) => {
    if (label !== 'PUBLIC KEY') throw refuse(source, `expected PEM PUBLIC KEY blocks, got ${label}`);
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: block, format: 'pem' });
    } catch (cause) {
      throw refuse(source, 'expected a parsable PUBLIC KEY block', cause);
    }
    const algorithm = algorithmOf(publicKey, source);
    const der = publicKey.export({ type: 'spki', format: 'der' });
    return {
      keyId: `sha256:${createHash('sha256').update(der).digest('hex')}`,
      algorithm,
      publicKey,
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
  });
}

/**
 * Loads the release trust keys (`releaseIntegrity.trustedKeysFiles`). A file may hold several
 * keys; the same key in two files counts once. Any unreadable file or unsupported key fails.
 */
export async function loadTrustedKeys(files: readonly string[]): Promise<TrustedKey[]> {
  const byId = new Map<string, TrustedKey>();
  for (const file of files) {
    let pem: string;
    try {
      pem = await readFile(file, 'utf8');
    } catch (cause) {
      throw refuse(file, 'expected a readable PEM file', cause);
    }
    for (const key of parseTrustedKeys(pem, file)) if (!byId.has(key.keyId)) byId.set(key.keyId, key);
  }
  return [...byId.values()];
}
