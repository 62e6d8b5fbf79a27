import {
  DEFAULT_SCANNER_CREATED,
  DEFAULT_SCANNER_REPOSITORY,
  DEFAULT_SCANNER_VERSION,
  OCI_IMAGE_CONFIG,
  OCI_IMAGE_MANIFEST,
  writeCosignLayer,
  writeCosignSignature,
  writeScannerImage,
  writeSigstoreBundleSignature,
  type OciDescriptor,
  type ReleaseKey,
  type SignatureDefect,
} from '@signer/dev';
import { MemoryOciContent } from './oci-content';

/** How a signature is made and where it is published. */
export interface PublishedSignatureOptions {
  key: ReleaseKey;
  /** `cosign` simple signing (default), or a Sigstore bundle with DSSE or message-signature content. */
  format?: 'cosign' | 'bundle-dsse' | 'bundle-message';
  /** For bundles: the media type spelling. */
  bundleMediaType?: string;
  /** `referrer` (an OCI 1.1 manifest with `subject`, default) or the legacy cosign `sha256-<hex>.sig` tag. */
  placement?: 'referrer' | 'legacy-sig';
  /** The digest the signed payload names; defaults to the image's. */
  payloadDigest?: string;
  /** Signed version and creation time; default the release's, `null` leaves them out. */
  version?: string | null;
  created?: string | null;
  defect?: Extract<SignatureDefect, 'corrupt-manifest-blob' | 'corrupt-payload-blob'>;
  /** Pads the signed payload to make an oversized signature layer. */
  paddingBytes?: number;
}

export interface RegistryReleaseOptions {
  repository?: string;
  version?: string;
  created?: string;
  signatures?: PublishedSignatureOptions[];
}

/** A scanner image and its signatures in memory, ready to push to a registry or serve. */
export interface RegistryRelease {
  content: MemoryOciContent;
  repository: string;
  version: string;
  created: string;
  scannerDigest: string;
  image: OciDescriptor;
  /** Signature manifests with the image as `subject` (what the Referrers API lists). */
  referrers: OciDescriptor[];
  /** The legacy `.sig` manifest, holding one layer per legacy signature. */
  legacy?: OciDescriptor;
}

function legacyManifest(content: MemoryOciContent, layers: OciDescriptor[]): OciDescriptor {
  // Legacy cosign: an image-shaped manifest, no subject, one simple-signing layer per signature.
  const config = content.putJson(
    {
      architecture: '',
      os: '',
      config: {},
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    },
    OCI_IMAGE_CONFIG,
  );
  return content.putJson(
    { schemaVersion: 2, mediaType: OCI_IMAGE_MANIFEST, config, layers },
    OCI_IMAGE_MANIFEST,
  );
}

/** Builds a scanner release with real keys and real signatures, the way cosign publishes them. */
export function buildRegistryRelease(options: RegistryReleaseOptions = {}): RegistryRelease {
  const repository = options.repository ?? DEFAULT_SCANNER_REPOSITORY;
  const version = options.version ?? DEFAULT_SCANNER_VERSION;
  const created = options.created ?? DEFAULT_SCANNER_CREATED;
  const content = new MemoryOciContent();
  const image = writeScannerImage(content, version, created);
  const imageBytes = content.blobs.get(image.digest)?.bytes ?? Buffer.alloc(0);
  const referrers: OciDescriptor[] = [];
  const legacyLayers: OciDescriptor[] = [];
  for (const spec of options.signatures ?? []) {
    const claims = {
      repository,
      digest: spec.payloadDigest ?? image.digest,
      version: spec.version === undefined ? version : spec.version,
      created: spec.created === undefined ? created : spec.created,
    };
    if (spec.paddingBytes) claims.repository = `${repository}#${'x'.repeat(spec.paddingBytes)}`;
    const format = spec.format ?? 'cosign';
    if (format !== 'cosign') {
      const { manifest } = writeSigstoreBundleSignature(content, {
        key: spec.key,
        subject: image,
        subjectBytes: imageBytes,
        claims,
        content: format === 'bundle-dsse' ? 'dsse' : 'message',
        mediaType: spec.bundleMediaType,
      });
      referrers.push(manifest);
      tamper(content, spec.defect, manifest, content.blobs.get(manifest.digest)?.bytes);
    } else if (spec.placement === 'legacy-sig') {
      const { layer } = writeCosignLayer(content, spec.key, claims);
      legacyLayers.push(layer);
      if (spec.defect === 'corrupt-payload-blob') content.overwriteBlob(layer.digest, Buffer.from('{}'));
    } else {
      const built = writeCosignSignature(content, {
        key: spec.key,
        subject: image,
        claims,
        defect: spec.defect,
      });
      referrers.push(built.manifest);
    }
  }
  const legacy = legacyLayers.length > 0 ? legacyManifest(content, legacyLayers) : undefined;
  return { content, repository, version, created, scannerDigest: image.digest, image, referrers, legacy };
}

/** Bundles are tampered here; cosign signatures are tampered by writeCosignSignature itself. */
function tamper(
  content: MemoryOciContent,
  defect: PublishedSignatureOptions['defect'],
  manifest: OciDescriptor,
  bytes: Buffer | undefined,
): void {
  if (!defect || !bytes) return;
  const parsed = JSON.parse(bytes.toString('utf8')) as { layers: OciDescriptor[] };
  if (defect === 'corrupt-manifest-blob') {
    content.overwriteBlob(
      manifest.digest,
      Buffer.from(JSON.stringify({ ...parsed, annotations: { tampered: 'true' } })),
    );
  } else {
    content.overwriteBlob(parsed.layers[0].digest, Buffer.from('{"mediaType":"tampered"}'));
  }
}
