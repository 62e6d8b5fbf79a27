/**
 * Shape checks for OCI JSON read from an untrusted source. Nothing here throws: a value that does
 * not have the expected shape is `undefined`, and the caller turns that into evidence.
 */

/** Only sha256 is accepted, and strictly: the hex becomes a file name, so it must not be a path. */
export const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations: Record<string, string>;
}

/** Bytes read for a descriptor; `intact` is false when they do not match its digest and size. */
export interface BlobRead {
  bytes: Buffer;
  intact: boolean;
}

/** The parts of an image manifest the verifier reads; `layers` stays raw so bad entries are seen. */
export interface ManifestView {
  artifactType?: string;
  configMediaType?: string;
  subjectDigest?: string;
  layers?: unknown[];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (value === undefined) return {};
  if (!isRecord(value)) return undefined;
  const entries = Object.entries(value);
  return entries.every(([, v]) => typeof v === 'string')
    ? Object.fromEntries(entries as [string, string][])
    : undefined;
}

export function parseDescriptor(value: unknown): Descriptor | undefined {
  if (!isRecord(value)) return undefined;
  const { mediaType, digest, size } = value;
  const annotations = stringMap(value.annotations);
  if (typeof mediaType !== 'string' || typeof digest !== 'string' || !SHA256_DIGEST.test(digest))
    return undefined;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || !annotations) return undefined;
  return { mediaType, digest, size, artifactType: optionalString(value.artifactType), annotations };
}

/** JSON text to a value, or `undefined` when it is not JSON. */
export function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function parseManifest(bytes: Buffer): ManifestView | undefined {
  const value = parseJson(bytes);
  if (!isRecord(value)) return undefined;
  const subject = isRecord(value.subject) ? value.subject : undefined;
  const config = isRecord(value.config) ? value.config : undefined;
  return {
    artifactType: optionalString(value.artifactType),
    configMediaType: optionalString(config?.mediaType),
    subjectDigest: optionalString(subject?.digest),
    layers: Array.isArray(value.layers) ? (value.layers as unknown[]) : undefined,
  };
}

/** The descriptors listed by an image index; entries that are not valid descriptors are dropped. */
export function parseIndexManifests(value: unknown): Descriptor[] | undefined {
  if (!isRecord(value) || !Array.isArray(value.manifests)) return undefined;
  return (value.manifests as unknown[]).map(parseDescriptor).filter((d): d is Descriptor => d !== undefined);
}
