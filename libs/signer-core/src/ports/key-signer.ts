import type { PublicKeyInfo, SignatureResult, SigningMode } from '../model';

/**
 * Signs bytes with one key (file, KMS or keyless certificate).
 * Contract: `sign` returns a signature that verifies over exactly `data` with the published key
 * or certificate, or throws; a backend outage is `upstream_unavailable`.
 */
export interface KeySigner {
  readonly keyId: string;
  readonly mode: SigningMode;
  readonly algorithm: string;
  sign(data: Buffer): Promise<SignatureResult>;
  /** The public verification material to publish at `GET /keys`. */
  describe(): Promise<PublicKeyInfo>;
}
