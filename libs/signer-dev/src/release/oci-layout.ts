import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalBytes } from '@signer/core';
import { OCI_IMAGE_INDEX } from './media-types';

/** An OCI content descriptor (image-spec `descriptor.md`). */
export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Path of a blob inside a layout directory (`blobs/<alg>/<hex>`). */
export function blobPath(layoutDir: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return join(layoutDir, 'blobs', algorithm, hex);
}

/** Where fixtures put content-addressed blobs: an OCI layout on disk or memory bound for a registry. */
export interface BlobWriter {
  putBlob(bytes: Uint8Array, mediaType: string): OciDescriptor;
  putJson(value: unknown, mediaType: string): OciDescriptor;
  /** Replaces a stored blob's bytes without changing its name: a digest mismatch on purpose. */
  overwriteBlob(digest: string, bytes: Uint8Array): void;
}

/**
 * Writes an OCI image layout directory. JSON goes through canonical JSON so that the same inputs
 * always produce the same bytes, hence the same digests.
 *
 * @see https://github.com/opencontainers/image-spec/blob/v1.1.0/image-layout.md
 */
export class OciLayoutWriter implements BlobWriter {
  private readonly manifests: OciDescriptor[] = [];

  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(dir, 'oci-layout'), canonicalBytes({ imageLayoutVersion: '1.0.0' }));
  }

  /** Stores raw bytes as a blob; the descriptor is what a manifest or index points at. */
  putBlob(bytes: Uint8Array, mediaType: string): OciDescriptor {
    const digest = sha256Digest(bytes);
    writeFileSync(blobPath(this.dir, digest), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  putJson(value: unknown, mediaType: string): OciDescriptor {
    return this.putBlob(canonicalBytes(value), mediaType);
  }

  /** Lists a manifest (or nested index) in `index.json`; call {@link writeIndex} when done. */
  addToIndex(descriptor: OciDescriptor): void {
    this.manifests.push(descriptor);
  }

  /** Replaces a stored blob's bytes without changing its name: a digest mismatch on purpose. */
  overwriteBlob(digest: string, bytes: Uint8Array): void {
    writeFileSync(blobPath(this.dir, digest), bytes);
  }

  writeIndex(): string {
    const path = join(this.dir, 'index.json');
    writeFileSync(
      path,
      canonicalBytes({ schemaVersion: 2, mediaType: OCI_IMAGE_INDEX, manifests: this.manifests }),
    );
    return path;
  }
}

/** Starts an OCI image layout in `dir` (created if missing) with its `oci-layout` marker file. */
export function writeOciLayout(dir: string): OciLayoutWriter {
  return new OciLayoutWriter(dir);
}
