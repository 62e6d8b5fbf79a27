import type { ReleaseVerdict } from '../model';

/**
 * Decides whether a scanner image digest carries a trusted release signature.
 * Contract: anything short of a verified signature by a trusted key over this exact digest is
 * `trusted: false` with a reason; an unreachable source with no verdict to fall back on must be an
 * error with code `upstream_unavailable`, never a verdict.
 */
export interface ReleaseVerifier {
  verify(digest: string): Promise<ReleaseVerdict>;
}
