import type { ReleaseMetadata, ReleaseSource, ReleaseVerdict, SignatureEvidence } from '../model';

function sameMetadata(a: ReleaseMetadata | undefined, b: ReleaseMetadata | undefined): boolean {
  return (a?.version ?? null) === (b?.version ?? null) && (a?.created ?? null) === (b?.created ?? null);
}

/**
 * The release-integrity verdict rules of contract §5, as a pure function of the evidence:
 * trusted iff at least one signature verified with a trusted key over this digest and no two
 * verified signatures disagree on the metadata. Otherwise the most specific reason is reported.
 */
export function decideRelease(
  digest: string,
  source: ReleaseSource,
  evidence: SignatureEvidence[],
): ReleaseVerdict {
  const signatures = [...evidence].sort((a, b) =>
    a.manifestDigest < b.manifestDigest ? -1 : a.manifestDigest > b.manifestDigest ? 1 : 0,
  );
  const verified = signatures.filter((s) => s.verified);
  const untrusted = (reason: ReleaseVerdict['reason']): ReleaseVerdict => ({
    digest,
    trusted: false,
    source,
    signatures,
    release: null,
    reason,
  });
  if (signatures.length === 0) return untrusted('no_signatures');
  if (verified.length === 0) {
    const problems = new Set(signatures.map((s) => s.problem));
    if (problems.has('digest_mismatch')) return untrusted('digest_mismatch');
    if (problems.has('untrusted_key')) return untrusted('untrusted_key');
    return untrusted('malformed_manifest');
  }
  if (!verified.every((s) => sameMetadata(s.metadata, verified[0].metadata))) {
    return untrusted('conflicting_metadata');
  }
  return { digest, trusted: true, source, signatures, release: verified[0].metadata ?? {}, reason: null };
}
