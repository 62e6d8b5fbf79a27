import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  writeCosignSignature,
  type CosignSignature,
  type SignatureDefect,
  type SimpleSigningClaims,
} from './cosign-signature';
import {
  OCI_IMAGE_CONFIG,
  OCI_IMAGE_INDEX,
  OCI_IMAGE_MANIFEST,
  OCI_LAYER_TAR_GZIP,
  OCI_REF_NAME,
} from './media-types';
import { blobPath, sha256Digest, writeOciLayout, type BlobWriter, type OciDescriptor } from './oci-layout';
import type { ReleaseKey } from './release-keys';
import { writeSigstoreBundleSignature } from './sigstore-bundle-signature';
import { gzipLayer, tarOneFile } from './tar';

export const DEFAULT_SCANNER_REPOSITORY = 'registry.stella-ops.local/stella-ops/scanner';
export const DEFAULT_SCANNER_VERSION = '1.4.2';
export const DEFAULT_SCANNER_CREATED = '2025-06-01T00:00:00Z';

export interface ReleaseSignatureOptions {
  key: ReleaseKey;
  /** The digest the signed payload names; defaults to the scanner image's (set it to lie). */
  payloadDigest?: string;
  /** Signed `org.opencontainers.image.version`; defaults to the release version, `null` omits it. */
  version?: string | null;
  created?: string | null;
  defect?: SignatureDefect;
  unsignedAnnotations?: Record<string, string>;
  /** `cosign` simple signing (default) or a Sigstore bundle with DSSE or message-signature content. */
  format?: 'cosign' | 'bundle-dsse' | 'bundle-message';
}

export interface ScannerReleaseOptions {
  /** Layout directory, created if missing. */
  dir: string;
  repository?: string;
  version?: string;
  created?: string;
  /** Tag of the image in `index.json`; defaults to the version. */
  refName?: string;
  signatures?: ReleaseSignatureOptions[];
  /**
   * `index`: signature manifests listed in `index.json` itself. `tag-schema`: listed in a nested
   * image index tagged `sha256-<hex>`, the OCI referrers tag-schema fallback.
   */
  referrers?: 'index' | 'tag-schema';
}

export interface BuiltSignature extends CosignSignature {
  manifestDigest: string;
  manifestPath: string;
}

export interface ScannerRelease {
  layoutPath: string;
  indexPath: string;
  repository: string;
  version: string;
  created: string;
  scannerDigest: string;
  scannerManifest: OciDescriptor;
  signatures: BuiltSignature[];
}

/** The scanner image itself: one layer holding its version file, a config and the manifest. */
export function writeScannerImage(layout: BlobWriter, version: string, created: string): OciDescriptor {
  const tar = tarOneFile('opt/stella-ops/scanner/VERSION', Buffer.from(`${version}\n`));
  const layer = layout.putBlob(gzipLayer(tar), OCI_LAYER_TAR_GZIP);
  const config = layout.putJson(
    {
      architecture: 'amd64',
      os: 'linux',
      created,
      config: { Entrypoint: ['/opt/stella-ops/scanner/scanner'] },
      rootfs: { type: 'layers', diff_ids: [`sha256:${createHash('sha256').update(tar).digest('hex')}`] },
    },
    OCI_IMAGE_CONFIG,
  );
  // Unsigned image annotations repeat the version: a verifier must not take metadata from here.
  return layout.putJson(
    {
      schemaVersion: 2,
      mediaType: OCI_IMAGE_MANIFEST,
      config,
      layers: [layer],
      annotations: {
        'org.opencontainers.image.version': version,
        'org.opencontainers.image.created': created,
      },
    },
    OCI_IMAGE_MANIFEST,
  );
}

/** A Sigstore bundle signature in the layout, shaped like a cosign signature for the callers. */
function bundleSignature(
  layout: BlobWriter,
  spec: ReleaseSignatureOptions,
  image: OciDescriptor,
  imageBytes: Buffer,
  claims: SimpleSigningClaims,
): CosignSignature {
  const { manifest, bundle } = writeSigstoreBundleSignature(layout, {
    key: spec.key,
    subject: image,
    subjectBytes: imageBytes,
    claims,
    content: spec.format === 'bundle-message' ? 'message' : 'dsse',
  });
  const payload = Buffer.from(JSON.stringify(bundle));
  return { manifest, payload, payloadDigest: sha256Digest(payload), signature: Buffer.alloc(0) };
}

/**
 * Writes a scanner image and its cosign signatures into an OCI image layout, with real keys and
 * real signatures, so the verifier under test sees what a released (or tampered) scanner looks like.
 */
export function buildScannerRelease(options: ScannerReleaseOptions): ScannerRelease {
  const repository = options.repository ?? DEFAULT_SCANNER_REPOSITORY;
  const version = options.version ?? DEFAULT_SCANNER_VERSION;
  const created = options.created ?? DEFAULT_SCANNER_CREATED;
  const layout = writeOciLayout(options.dir);
  const image = writeScannerImage(layout, version, created);
  layout.addToIndex({ ...image, annotations: { [OCI_REF_NAME]: options.refName ?? version } });

  const imageBytes = readFileSync(blobPath(options.dir, image.digest));
  const signatures = (options.signatures ?? []).map((spec): BuiltSignature => {
    const claims = {
      repository,
      digest: spec.payloadDigest ?? image.digest,
      version: spec.version === undefined ? version : spec.version,
      created: spec.created === undefined ? created : spec.created,
    };
    const built =
      spec.format === 'bundle-dsse' || spec.format === 'bundle-message'
        ? bundleSignature(layout, spec, image, imageBytes, claims)
        : writeCosignSignature(layout, {
            key: spec.key,
            subject: image,
            defect: spec.defect,
            unsignedAnnotations: spec.unsignedAnnotations,
            claims,
          });
    const manifestDigest = built.manifest.digest;
    return { ...built, manifestDigest, manifestPath: blobPath(options.dir, manifestDigest) };
  });

  if (options.referrers === 'tag-schema' && signatures.length > 0) {
    const referrers = layout.putJson(
      { schemaVersion: 2, mediaType: OCI_IMAGE_INDEX, manifests: signatures.map((s) => s.manifest) },
      OCI_IMAGE_INDEX,
    );
    layout.addToIndex({ ...referrers, annotations: { [OCI_REF_NAME]: image.digest.replace(':', '-') } });
  } else {
    signatures.forEach((s) => layout.addToIndex(s.manifest));
  }
  return {
    layoutPath: options.dir,
    indexPath: layout.writeIndex(),
    repository,
    version,
    created,
    scannerDigest: image.digest,
    scannerManifest: image,
    signatures,
  };
}
