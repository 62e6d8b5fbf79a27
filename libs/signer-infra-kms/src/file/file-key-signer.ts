import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { KeySigner, PublicKeyInfo, SignatureResult } from '@signer/core';
import { KeyConfigError } from '../errors';

/** Algorithms a local key file may hold (contract §7: ECDSA P-256 or Ed25519). */
export type FileKeyAlgorithm = 'ES256' | 'EdDSA';

export interface FileKeySignerOptions {
  keyId: string;
  privateKey: KeyObject;
}

export interface FileKeySignerFileOptions {
  keyId: string;
  /** Path to an unencrypted PKCS#8 PEM private key. */
  path: string;
}

// Only unencrypted PKCS#8 is accepted: SEC1 / PKCS#1 files would also parse, but the contract
// names PKCS#8, and one format keeps the dev tooling and the docs honest.
const PKCS8_PEM_LABEL = '-----BEGIN PRIVATE KEY-----';

/**
 * A key held in a local file (embedded/dev profile). Published under mode `kms` because, for a
 * caller, it is the same thing: a named key whose public half is at `GET /keys`.
 */
export class FileKeySigner implements KeySigner {
  readonly keyId: string;
  readonly mode = 'kms' as const;
  readonly algorithm: FileKeyAlgorithm;
  readonly publicKeyPem: string;
  private readonly privateKey: KeyObject;

  /** Throws {@link KeyConfigError} for anything but an ECDSA P-256 or Ed25519 private key. */
  constructor(options: FileKeySignerOptions) {
    this.keyId = options.keyId;
    this.algorithm = algorithmOf(options.keyId, options.privateKey);
    this.privateKey = options.privateKey;
    this.publicKeyPem = createPublicKey(options.privateKey)
      .export({ type: 'spki', format: 'pem' })
      .toString();
  }

  static async fromFile(options: FileKeySignerFileOptions): Promise<FileKeySigner> {
    let pem: string;
    try {
      pem = await readFile(options.path, 'utf8');
    } catch (cause) {
      throw new KeyConfigError(`signing key "${options.keyId}": cannot read ${options.path}`, { cause });
    }
    if (!pem.includes(PKCS8_PEM_LABEL)) {
      throw new KeyConfigError(
        `signing key "${options.keyId}": ${options.path} is not an unencrypted PKCS#8 PEM private key`,
      );
    }
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: pem, format: 'pem' });
    } catch (cause) {
      // The parser's message is kept as the cause only: it could quote bytes of the key.
      throw new KeyConfigError(
        `signing key "${options.keyId}": ${options.path} does not parse as a private key`,
        { cause },
      );
    }
    return new FileKeySigner({ keyId: options.keyId, privateKey });
  }

  async sign(data: Buffer): Promise<SignatureResult> {
    // ES256 hashes with SHA-256 and yields ASN.1 DER (node's default dsaEncoding), as the contract
    // and Sigstore require; Ed25519 takes no digest and yields the raw 64-byte signature.
    const signature = sign(this.algorithm === 'ES256' ? 'sha256' : null, data, this.privateKey);
    return {
      signature,
      dsseKeyId: this.keyId,
      identity: { keyId: this.keyId },
      publicKeyPem: this.publicKeyPem,
    };
  }

  async describe(): Promise<PublicKeyInfo> {
    return { keyId: this.keyId, algorithm: this.algorithm, publicKeyPem: this.publicKeyPem };
  }
}

function algorithmOf(keyId: string, key: KeyObject): FileKeyAlgorithm {
  if (key.type !== 'private') {
    throw new KeyConfigError(`signing key "${keyId}": expected a private key, got a ${key.type} key`);
  }
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'EdDSA';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (type === 'ec' && curve === 'prime256v1') return 'ES256';
  const got = type === 'ec' ? `ec (${curve ?? 'unknown curve'})` : (type ?? 'unknown');
  throw new KeyConfigError(`signing key "${keyId}": expected an ECDSA P-256 or Ed25519 key, got ${got}`);
}
