/**
 * Media types and annotations the release verifier recognises.
 *
 * @see https://github.com/opencontainers/image-spec/blob/v1.1.0/media-types.md
 * @see https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md
 */
export const OCI_IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_IMAGE_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const COSIGN_SIGNATURE_ARTIFACT = 'application/vnd.dev.cosign.artifact.sig.v1+json';
export const COSIGN_SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';
export const OCI_VERSION_ANNOTATION = 'org.opencontainers.image.version';
export const OCI_CREATED_ANNOTATION = 'org.opencontainers.image.created';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
/** The Sigstore bundle v0.3 media type, and the spelling clients used before it was final. */
export const SIGSTORE_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const SIGSTORE_BUNDLE_V03_EARLY = 'application/vnd.dev.sigstore.bundle+json;version=0.3';
export const SIGSTORE_BUNDLE_TYPES: readonly string[] = [SIGSTORE_BUNDLE_V03, SIGSTORE_BUNDLE_V03_EARLY];
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_TYPES: readonly string[] = [
  'https://in-toto.io/Statement/v1',
  'https://in-toto.io/Statement/v0.1',
];
/** Artifact types a release signature referrer may carry; the Referrers API is asked for each. */
export const SIGNATURE_ARTIFACT_TYPES: readonly string[] = [
  COSIGN_SIGNATURE_ARTIFACT,
  ...SIGSTORE_BUNDLE_TYPES,
];
/** Every manifest kind a registry may answer with (distribution spec `Accept` negotiation). */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  OCI_IMAGE_MANIFEST,
  OCI_IMAGE_INDEX,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
];
