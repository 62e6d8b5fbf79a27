import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReleaseVectorExpectation {
  verified: boolean;
  problem?: string;
  metadata?: { version?: string; created?: string };
}

export interface ReleaseVector {
  name: string;
  format: 'cosign' | 'sigstore-bundle';
  keyKind: string;
  publicKeyPem: string;
  /** cosign: base64 simple-signing payload and base64 signature (the annotation value). */
  payload?: string;
  signature?: string;
  /** sigstore-bundle: the bundle JSON. */
  bundle?: Record<string, unknown>;
  expect: ReleaseVectorExpectation;
}

export interface ReleaseVectors {
  repository: string;
  scannerDigest: string;
  /** base64 of the scanner image manifest (what a message-signature bundle signs). */
  imageManifest: string;
  vectors: ReleaseVector[];
}

/**
 * The committed release-signature interop vectors (regenerate with `generate-vectors.mjs` beside
 * this file): kept as data so a verifier change that stops accepting them fails loudly.
 */
export function loadReleaseVectors(): ReleaseVectors {
  return JSON.parse(
    readFileSync(join(__dirname, 'release-signature-vectors.json'), 'utf8'),
  ) as ReleaseVectors;
}
