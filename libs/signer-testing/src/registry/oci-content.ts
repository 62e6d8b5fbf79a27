import { canonicalBytes } from '@signer/core';
import { sha256Digest, type BlobWriter, type OciDescriptor } from '@signer/dev';

export interface StoredBlob {
  bytes: Buffer;
  mediaType: string;
}

/**
 * Content-addressed blobs in memory, bound for a registry. A tampered blob keeps its original bytes
 * (what gets pushed: registries refuse bytes that miss their digest) and the bytes to serve instead.
 */
export class MemoryOciContent implements BlobWriter {
  readonly blobs = new Map<string, StoredBlob>();
  readonly tampered = new Map<string, Buffer>();

  putBlob(bytes: Uint8Array, mediaType: string): OciDescriptor {
    const digest = sha256Digest(bytes);
    this.blobs.set(digest, { bytes: Buffer.from(bytes), mediaType });
    return { mediaType, digest, size: bytes.length };
  }

  putJson(value: unknown, mediaType: string): OciDescriptor {
    return this.putBlob(canonicalBytes(value), mediaType);
  }

  overwriteBlob(digest: string, bytes: Uint8Array): void {
    this.tampered.set(digest, Buffer.from(bytes));
  }

  /** The bytes a dishonest store serves for `digest` (tampered ones when set). */
  served(digest: string): StoredBlob | undefined {
    const stored = this.blobs.get(digest);
    const tampered = this.tampered.get(digest);
    return stored && tampered ? { ...stored, bytes: tampered } : stored;
  }
}
