import type { ReleaseMetadata } from '@signer/core';
import { isRecord, parseJson } from '../oci/descriptor';
import { IN_TOTO_STATEMENT_TYPES, OCI_CREATED_ANNOTATION, OCI_VERSION_ANNOTATION } from '../oci/media-types';

export type StatementClaims =
  { kind: 'names-digest'; metadata: ReleaseMetadata } | { kind: 'other-digest' } | { kind: 'malformed' };

/**
 * What a verified in-toto Statement says about `digest`: whether a subject names it, and the
 * release metadata from that subject's `annotations` (signed, like the simple-signing `optional`
 * map). A non-string version or creation time makes the statement malformed.
 *
 * @see https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md
 */
export function statementClaims(payload: Buffer, digest: string): StatementClaims {
  const statement = parseJson(payload);
  // typeof, not String(): an object `_type` with a `toString` member would make String() throw.
  const type = isRecord(statement) ? statement._type : undefined;
  if (!isRecord(statement) || typeof type !== 'string' || !IN_TOTO_STATEMENT_TYPES.includes(type)) {
    return { kind: 'malformed' };
  }
  if (!Array.isArray(statement.subject)) return { kind: 'malformed' };
  const hex = digest.slice('sha256:'.length);
  const subject = (statement.subject as unknown[]).find(
    (s) => isRecord(s) && isRecord(s.digest) && s.digest.sha256 === hex,
  ) as Record<string, unknown> | undefined;
  if (!subject) return { kind: 'other-digest' };
  const annotations = subject.annotations === undefined ? {} : subject.annotations;
  if (!isRecord(annotations)) return { kind: 'malformed' };
  const metadata: ReleaseMetadata = {};
  for (const [key, name] of [
    ['version', OCI_VERSION_ANNOTATION],
    ['created', OCI_CREATED_ANNOTATION],
  ] as const) {
    const value = annotations[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') return { kind: 'malformed' };
    metadata[key] = value;
  }
  return { kind: 'names-digest', metadata };
}
