import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { SignerError } from '@signer/core';
import {
  isRecord,
  parseIndexManifests,
  parseJson,
  SHA256_DIGEST,
  type BlobRead,
  type Descriptor,
} from '../oci/descriptor';

/** A blob as read from disk; `intact` is false when its bytes do not match the descriptor. */
export type LayoutBlob = BlobRead;

/** The file's bytes, or `undefined` when it is not a regular file or is larger than `maxBytes`. */
async function readBounded(path: string, maxBytes: number): Promise<Buffer | undefined> {
  const handle = await open(path, 'r');
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > maxBytes) return undefined;
    const bytes = await handle.readFile();
    // The file may have grown since stat; the limit is about memory, so check what was read.
    return bytes.length > maxBytes ? undefined : bytes;
  } finally {
    await handle.close();
  }
}

function unavailable(root: string, what: string, cause?: unknown): SignerError {
  return new SignerError('upstream_unavailable', `expected an OCI image layout at ${root}, got ${what}`, {
    upstream: 'registry',
    cause,
  });
}

/**
 * Read access to an OCI image layout directory. The layout itself (`oci-layout`, `index.json`)
 * missing or unreadable is an outage of the release source; a bad blob is hostile content and is
 * reported as `undefined` or `intact: false`, never thrown.
 *
 * @see https://github.com/opencontainers/image-spec/blob/v1.1.0/image-layout.md
 */
export class OciLayoutStore {
  constructor(private readonly root: string) {}

  /** The descriptors of `index.json`. */
  async readIndex(maxBytes: number): Promise<Descriptor[]> {
    const marker = await this.readLayoutFile('oci-layout', maxBytes);
    const layout = parseJson(marker);
    if (!isRecord(layout) || typeof layout.imageLayoutVersion !== 'string') {
      throw unavailable(this.root, 'an oci-layout file without imageLayoutVersion');
    }
    const manifests = parseIndexManifests(parseJson(await this.readLayoutFile('index.json', maxBytes)));
    if (!manifests) throw unavailable(this.root, 'an index.json that is not an image index');
    return manifests;
  }

  /**
   * The blob named by `descriptor`, read from `blobs/sha256/<hex>` with at most `maxBytes`, or
   * `undefined` when it is missing, unreadable or too large.
   */
  async readBlob(descriptor: Descriptor, maxBytes: number): Promise<LayoutBlob | undefined> {
    // parseDescriptor already refused other digests; checked again because the hex becomes a path.
    if (!SHA256_DIGEST.test(descriptor.digest) || descriptor.size > maxBytes) return undefined;
    const hex = descriptor.digest.slice('sha256:'.length);
    let bytes: Buffer | undefined;
    try {
      bytes = await readBounded(join(this.root, 'blobs', 'sha256', hex), maxBytes);
    } catch {
      return undefined;
    }
    if (!bytes) return undefined;
    const actual = createHash('sha256').update(bytes).digest('hex');
    return { bytes, intact: actual === hex && bytes.length === descriptor.size };
  }

  /** The blob stored under `digest`, only if its bytes hash to it (the size is not known beforehand). */
  async readDigest(digest: string, maxBytes: number): Promise<Buffer | undefined> {
    const blob = await this.readBlob({ mediaType: '', digest, size: 0, annotations: {} }, maxBytes);
    if (!blob) return undefined;
    const actual = `sha256:${createHash('sha256').update(blob.bytes).digest('hex')}`;
    return actual === digest ? blob.bytes : undefined;
  }

  private async readLayoutFile(name: string, maxBytes: number): Promise<Buffer> {
    let bytes: Buffer | undefined;
    try {
      bytes = await readBounded(join(this.root, name), maxBytes);
    } catch (cause) {
      throw unavailable(this.root, `no readable ${name}`, cause);
    }
    if (!bytes) throw unavailable(this.root, `an ${name} that is not a file or exceeds ${maxBytes} bytes`);
    return bytes;
  }
}
