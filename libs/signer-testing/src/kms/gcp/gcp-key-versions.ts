import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { DigestSignature } from '../prehash-sign';

export type FakeGcpAlgorithm =
  | 'EC_SIGN_P256_SHA256'
  | 'EC_SIGN_P384_SHA384'
  | 'EC_SIGN_SECP256K1_SHA256'
  | 'RSA_SIGN_PSS_2048_SHA256'
  | 'RSA_SIGN_PKCS1_2048_SHA256'
  | 'RSA_DECRYPT_OAEP_2048_SHA256';

/** Enum numbers of `CryptoKeyVersionAlgorithm` (resources.proto), for the REST transport. */
export const GCP_ALGORITHM_NUMBER: Readonly<Record<FakeGcpAlgorithm, number>> = {
  EC_SIGN_P256_SHA256: 12,
  EC_SIGN_P384_SHA384: 13,
  EC_SIGN_SECP256K1_SHA256: 31,
  RSA_SIGN_PSS_2048_SHA256: 2,
  RSA_SIGN_PKCS1_2048_SHA256: 5,
  RSA_DECRYPT_OAEP_2048_SHA256: 8,
};

export interface FakeGcpKeyVersion {
  name: string;
  algorithm: FakeGcpAlgorithm;
  publicKey: KeyObject;
  privateKey: KeyObject;
  /** How it signs and which `Digest` field it takes; absent for a decryption key. */
  signing?: { kind: DigestSignature; digestField: 'sha256' | 'sha384' };
}

export function generateKeyVersion(name: string, algorithm: FakeGcpAlgorithm): FakeGcpKeyVersion {
  switch (algorithm) {
    case 'EC_SIGN_P256_SHA256':
      return {
        name,
        algorithm,
        ...generateKeyPairSync('ec', { namedCurve: 'P-256' }),
        signing: { kind: 'ecdsa', digestField: 'sha256' },
      };
    case 'EC_SIGN_P384_SHA384':
      return {
        name,
        algorithm,
        ...generateKeyPairSync('ec', { namedCurve: 'P-384' }),
        signing: { kind: 'ecdsa', digestField: 'sha384' },
      };
    case 'EC_SIGN_SECP256K1_SHA256':
      return {
        name,
        algorithm,
        ...generateKeyPairSync('ec', { namedCurve: 'secp256k1' }),
        signing: { kind: 'ecdsa', digestField: 'sha256' },
      };
    case 'RSA_SIGN_PSS_2048_SHA256':
      return {
        name,
        algorithm,
        ...generateKeyPairSync('rsa', { modulusLength: 2048 }),
        signing: { kind: 'rsa-pss', digestField: 'sha256' },
      };
    case 'RSA_SIGN_PKCS1_2048_SHA256':
      return {
        name,
        algorithm,
        ...generateKeyPairSync('rsa', { modulusLength: 2048 }),
        signing: { kind: 'rsa-pkcs1', digestField: 'sha256' },
      };
    case 'RSA_DECRYPT_OAEP_2048_SHA256':
      return { name, algorithm, ...generateKeyPairSync('rsa', { modulusLength: 2048 }) };
  }
}
