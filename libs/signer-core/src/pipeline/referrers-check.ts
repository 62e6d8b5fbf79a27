import { SignerError } from '../errors';
import type { ReleaseVerdict } from '../model';
import type { ReleaseVerifier } from '../ports/release-verifier';
import type { CallerAuthenticator, CallerCredentials } from './caller-authenticator';
import type { DecisionLog } from './decision-log';
import type { DecisionTrail } from './decision-trail';

export const SCANNER_DIGEST = /^sha256:[0-9a-f]{64}$/;

export const REFERRERS_ROUTE = 'GET /api/v1/signer/verify/referrers';

/**
 * `GET /verify/referrers`: the release-integrity check without signing. Same caller gates; the
 * verdict (trusted or not) is the answer, and the decision is audited like any other.
 */
export class ReferrersCheck {
  constructor(
    private readonly authenticator: CallerAuthenticator,
    private readonly releases: ReleaseVerifier,
    private readonly decisions: DecisionLog,
  ) {}

  /** Runs the check for the request's decision `trail` (begun with {@link REFERRERS_ROUTE}). */
  async check(trail: DecisionTrail, digest: string, credentials: CallerCredentials): Promise<ReleaseVerdict> {
    try {
      await trail.gate('body', () => {
        if (!SCANNER_DIGEST.test(digest)) {
          throw new SignerError('invalid_request', 'digest: expected sha256:<64 lowercase hex>');
        }
      });
      trail.record.scannerImageDigest = digest;
      await this.authenticator.authenticate(credentials, trail);
      const verdict = await trail.gate('release', () => this.releases.verify(digest));
      await this.decisions.finish(trail, 'checked');
      return verdict;
    } catch (thrown) {
      throw await this.decisions.refuse(trail, thrown);
    }
  }
}
