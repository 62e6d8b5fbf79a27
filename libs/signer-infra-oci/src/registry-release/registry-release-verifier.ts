import { createHash } from 'node:crypto';
import {
  decideRelease,
  SignerError,
  type ReleaseSource,
  type ReleaseVerdict,
  type ReleaseVerifier,
  type SignatureEvidence,
} from '@signer/core';
import {
  announcedKind,
  malformed,
  signatureEvidence,
  type EvidenceReader,
} from '../evidence/signature-evidence';
import { parseManifest, type BlobRead, type Descriptor } from '../oci/descriptor';
import { DEFAULT_MAX_LAYER_BYTES, DEFAULT_MAX_MANIFEST_BYTES } from '../oci/limits';
import { RegistryClient } from '../registry/registry-client';
import type { RegistryCredential } from '../registry/registry-credentials';
import { isRegistryError } from '../registry/registry-error';
import { repositoryPath } from '../registry/repository-name';
import type { TrustedKey } from '../trusted-keys/trusted-keys';
import { discoverSignatures } from './referrers-discovery';

/**
 * `Retry-After` for a registry outage: a walk gives up after `timeoutMs` (3 s by default), so a
 * retry sooner than this mostly meets the same outage.
 */
export const REGISTRY_RETRY_AFTER_SECONDS = 5;
/** The contract's default for `releaseIntegrity.timeoutMs`: the deadline of one whole registry walk. */
export const DEFAULT_REGISTRY_TIMEOUT_MS = 3000;
export const DEFAULT_MAX_SIGNATURES = 32;

export interface RegistryReleaseVerifierOptions {
  /** `releaseIntegrity.registryUrl`: scheme, host and port of the registry. */
  registryUrl: string;
  /** `releaseIntegrity.scannerRepository`; its host part is dropped to get the repository path. */
  scannerRepository: string;
  trustedKeys: readonly TrustedKey[];
  /** The credential configured for the registry host, if any. */
  credential?: RegistryCredential;
  timeoutMs?: number;
  maxManifestBytes?: number;
  maxLayerBytes?: number;
  maxSignatures?: number;
  /** Milliseconds since the epoch, for token expiry; pinned by tests. */
  now?: () => number;
}

/** Content that is missing, too large or not what its digest says is a broken signature, not an outage. */
const CONTENT_FAILURES = ['not_found', 'too_large', 'integrity'] as const;

/**
 * Release integrity (contract §5) from an OCI registry: signatures discovered through the Referrers
 * API or its tag-schema fallback plus the legacy `.sig` tag, each fetched by digest and verified.
 * An outage or the `timeoutMs` deadline is `upstream_unavailable` (never a verdict, never cached);
 * a registry that answers but refuses (auth refused, unusable answers) is a `registry_error` verdict.
 */
export class RegistryReleaseVerifier implements ReleaseVerifier {
  private readonly client: RegistryClient;
  private readonly timeoutMs: number;
  private readonly maxManifestBytes: number;
  private readonly maxLayerBytes: number;
  private readonly maxSignatures: number;

  constructor(private readonly options: RegistryReleaseVerifierOptions) {
    if (options.trustedKeys.length === 0) {
      throw new SignerError(
        'internal_error',
        'release verifier: expected at least one trusted key, got none',
      );
    }
    this.client = new RegistryClient({
      registryUrl: options.registryUrl,
      repository: repositoryPath(options.scannerRepository),
      credential: options.credential,
      now: options.now,
    });
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REGISTRY_TIMEOUT_MS;
    this.maxManifestBytes = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    this.maxLayerBytes = options.maxLayerBytes ?? DEFAULT_MAX_LAYER_BYTES;
    this.maxSignatures = options.maxSignatures ?? DEFAULT_MAX_SIGNATURES;
  }

  async verify(digest: string): Promise<ReleaseVerdict> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    let source: ReleaseSource = 'referrers-api';
    const evidence: SignatureEvidence[] = [];
    try {
      const found = await discoverSignatures(
        this.client,
        digest,
        { maxManifestBytes: this.maxManifestBytes, maxSignatures: this.maxSignatures },
        signal,
      );
      source = found.source;
      evidence.push(...found.evidence);
      const reader = this.reader(digest, signal);
      for (const descriptor of found.referrers)
        evidence.push(...(await this.referrer(descriptor, reader, signal)));
      if (found.legacy) evidence.push(...(await this.legacy(found.legacy, reader)));
      return decideRelease(digest, source, evidence);
    } catch (error) {
      if (isRegistryError(error, 'unavailable')) {
        throw new SignerError('upstream_unavailable', `release registry: ${error.message}`, {
          upstream: 'registry',
          retryAfterSeconds: REGISTRY_RETRY_AFTER_SECONDS,
          cause: error,
        });
      }
      if (isRegistryError(error)) {
        return {
          ...decideRelease(digest, source, evidence),
          trusted: false,
          release: null,
          reason: 'registry_error',
        };
      }
      throw error;
    }
  }

  /** Reads layers and the image manifest through the client; broken content reads as `undefined`. */
  private reader(digest: string, signal: AbortSignal): EvidenceReader {
    let subject: Promise<Buffer | undefined> | undefined;
    const content = async <T>(read: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await read();
      } catch (error) {
        if (isRegistryError(error, ...CONTENT_FAILURES)) return undefined;
        throw error;
      }
    };
    return {
      digest,
      trustedKeys: this.options.trustedKeys,
      readLayer: (layer: Descriptor) =>
        content<BlobRead>(async () => ({
          bytes: await this.client.blob(layer, this.maxLayerBytes, signal),
          intact: true,
        })),
      readSubject: () => {
        subject ??= content(() => this.client.manifestByDigest(digest, this.maxManifestBytes, signal));
        return subject;
      },
    };
  }

  /** A listed referrer: its manifest fetched by digest (verified), then checked as a signature. */
  private async referrer(
    descriptor: Descriptor,
    reader: EvidenceReader,
    signal: AbortSignal,
  ): Promise<SignatureEvidence[]> {
    const broken = malformed(descriptor.digest, announcedKind(descriptor.artifactType));
    if (descriptor.size > this.maxManifestBytes) return broken;
    let bytes: Buffer;
    try {
      bytes = await this.client.manifestByDigest(descriptor.digest, this.maxManifestBytes, signal);
    } catch (error) {
      if (isRegistryError(error, ...CONTENT_FAILURES)) return broken;
      throw error;
    }
    const manifest = bytes.length === descriptor.size ? parseManifest(bytes) : undefined;
    if (!manifest) return broken;
    const evidence = await signatureEvidence(descriptor.digest, manifest, reader);
    // Listed as a signature but is none: broken. Listed without a type and is none: not ours.
    return evidence ?? (descriptor.artifactType === undefined ? [] : broken);
  }

  /** The legacy `.sig` manifest: fetched by tag, so its digest is whatever its bytes hash to. */
  private async legacy(bytes: Buffer, reader: EvidenceReader): Promise<SignatureEvidence[]> {
    const manifestDigest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const manifest = parseManifest(bytes);
    const evidence = manifest && (await signatureEvidence(manifestDigest, manifest, reader));
    return evidence ?? malformed(manifestDigest, 'cosign');
  }
}
