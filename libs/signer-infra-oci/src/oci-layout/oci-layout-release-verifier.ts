import {
  decideRelease,
  SignerError,
  type ReleaseVerdict,
  type ReleaseVerifier,
  type SignatureEvidence,
} from '@signer/core';
import { announcedKind, malformed, signatureEvidence, signatureKind } from '../evidence/signature-evidence';
import { parseIndexManifests, parseJson, parseManifest, type Descriptor } from '../oci/descriptor';
import { DEFAULT_MAX_LAYER_BYTES, DEFAULT_MAX_MANIFEST_BYTES } from '../oci/limits';
import {
  DOCKER_MANIFEST_LIST,
  OCI_IMAGE_INDEX,
  OCI_IMAGE_MANIFEST,
  SIGNATURE_ARTIFACT_TYPES,
} from '../oci/media-types';
import type { TrustedKey } from '../trusted-keys/trusted-keys';
import { OciLayoutStore } from './layout-store';

export { DEFAULT_MAX_LAYER_BYTES, DEFAULT_MAX_MANIFEST_BYTES };

export interface OciLayoutReleaseVerifierOptions {
  /** The OCI image layout directory (`releaseIntegrity.ociLayoutPath`). */
  layoutPath: string;
  trustedKeys: readonly TrustedKey[];
  /** Upper bound for `index.json`, nested indexes and manifests. */
  maxManifestBytes?: number;
  /** Upper bound for a signature payload blob. */
  maxLayerBytes?: number;
}

const INDEX_TYPES = new Set([OCI_IMAGE_INDEX, DOCKER_MANIFEST_LIST]);

/**
 * Release integrity (contract §5) from an OCI image layout, the offline/embedded source. Layouts
 * have no referrers API: referrers are the manifests listed in `index.json` (or in an index it
 * lists, such as a `sha256-<hex>` tag-schema index) whose `subject` is the image. Cosign
 * simple-signing signatures and Sigstore bundles are checked alike.
 *
 * `critical.identity.docker-reference` is not compared with `scannerRepository`, as `cosign verify`
 * does not compare it unless asked: the signed digest pins the bytes, and mirrored or relocated
 * releases keep the reference they were signed under (docs/release-integrity.md).
 */
export class OciLayoutReleaseVerifier implements ReleaseVerifier {
  private readonly store: OciLayoutStore;
  private readonly maxManifestBytes: number;
  private readonly maxLayerBytes: number;

  constructor(private readonly options: OciLayoutReleaseVerifierOptions) {
    if (options.trustedKeys.length === 0) {
      // Fail at boot: a verifier without keys would answer "untrusted" for every release, forever.
      throw new SignerError(
        'internal_error',
        'release verifier: expected at least one trusted key, got none',
      );
    }
    this.store = new OciLayoutStore(options.layoutPath);
    this.maxManifestBytes = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    this.maxLayerBytes = options.maxLayerBytes ?? DEFAULT_MAX_LAYER_BYTES;
  }

  async verify(digest: string): Promise<ReleaseVerdict> {
    const evidence: SignatureEvidence[] = [];
    for (const descriptor of await this.listManifests())
      evidence.push(...(await this.inspect(descriptor, digest)));
    return decideRelease(digest, 'oci-layout', evidence);
  }

  /** Image manifests of `index.json` and of the indexes it lists (one level), each once. */
  private async listManifests(): Promise<Descriptor[]> {
    const top = await this.store.readIndex(this.maxManifestBytes);
    const found = new Map<string, Descriptor>();
    const add = (d: Descriptor): void => {
      if (d.mediaType === OCI_IMAGE_MANIFEST && !found.has(d.digest)) found.set(d.digest, d);
    };
    top.forEach(add);
    for (const nested of top.filter((d) => INDEX_TYPES.has(d.mediaType))) {
      const blob = await this.store.readBlob(nested, this.maxManifestBytes);
      // A damaged index is skipped: nothing it lists can be trusted to be what it claims.
      if (blob?.intact) parseIndexManifests(parseJson(blob.bytes))?.forEach(add);
    }
    return [...found.values()];
  }

  /** The signature evidence one listed manifest gives for `digest` (none if it is not a signature of it). */
  private async inspect(descriptor: Descriptor, digest: string): Promise<SignatureEvidence[]> {
    const manifestDigest = descriptor.digest;
    const blob = await this.store.readBlob(descriptor, this.maxManifestBytes);
    const manifest = blob && parseManifest(blob.bytes);
    const announced = descriptor.artifactType;
    // Unreadable, so its subject is unknown: count it only if the index says it is a signature.
    if (!manifest) {
      return announced !== undefined && SIGNATURE_ARTIFACT_TYPES.includes(announced)
        ? malformed(manifestDigest, announcedKind(announced))
        : [];
    }
    if (manifest.subjectDigest !== digest) return [];
    const kind = signatureKind(manifest);
    if (!kind) return [];
    if (!blob.intact) return malformed(manifestDigest, kind);
    const evidence = await signatureEvidence(manifestDigest, manifest, {
      digest,
      trustedKeys: this.options.trustedKeys,
      readLayer: (layer) => this.store.readBlob(layer, this.maxLayerBytes),
      readSubject: () => this.store.readDigest(digest, this.maxManifestBytes),
    });
    return evidence ?? [];
  }
}
