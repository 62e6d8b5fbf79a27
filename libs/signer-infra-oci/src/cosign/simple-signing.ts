import type { ReleaseMetadata } from '@signer/core';
import { isRecord, parseJson } from '../oci/descriptor';
import { COSIGN_SIGNATURE_TYPE, OCI_CREATED_ANNOTATION, OCI_VERSION_ANNOTATION } from '../oci/media-types';

/** What a verified simple-signing payload claims. */
export interface SimpleSigningClaims {
  digest: string;
  dockerReference?: string;
  metadata: ReleaseMetadata;
}

function optionalStringField(map: Record<string, unknown>, name: string): { ok: boolean; value?: string } {
  const value = map[name];
  if (value === undefined) return { ok: true };
  return typeof value === 'string' ? { ok: true, value } : { ok: false };
}

/**
 * The claims of a cosign simple-signing payload, or `undefined` when it is not one. Call it only on
 * bytes whose signature verified: release metadata must come from signed content alone (§5).
 * The `type` is checked so that another document signed by the same key cannot stand in.
 *
 * @see https://github.com/containers/image/blob/main/docs/containers-signature.5.md
 */
export function parseSimpleSigning(payload: Buffer): SimpleSigningClaims | undefined {
  const value = parseJson(payload);
  if (!isRecord(value) || !isRecord(value.critical)) return undefined;
  const { image, identity, type } = value.critical;
  if (type !== COSIGN_SIGNATURE_TYPE || !isRecord(image)) return undefined;
  const digest = image['docker-manifest-digest'];
  if (typeof digest !== 'string') return undefined;
  const optional = value.optional === undefined || value.optional === null ? {} : value.optional;
  if (!isRecord(optional)) return undefined;
  const version = optionalStringField(optional, OCI_VERSION_ANNOTATION);
  const created = optionalStringField(optional, OCI_CREATED_ANNOTATION);
  if (!version.ok || !created.ok) return undefined;
  const metadata: ReleaseMetadata = {};
  if (version.value !== undefined) metadata.version = version.value;
  if (created.value !== undefined) metadata.created = created.value;
  const reference = isRecord(identity) ? identity['docker-reference'] : undefined;
  return { digest, dockerReference: typeof reference === 'string' ? reference : undefined, metadata };
}
