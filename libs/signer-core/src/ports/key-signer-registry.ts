import type { SigningMode } from '../model';
import type { KeySigner } from './key-signer';

/**
 * Picks the signer for a request. Contract: an unknown key id or an unconfigured mode is
 * `invalid_request`; it never falls back to another key silently.
 */
export interface KeySignerRegistry {
  resolve(mode: SigningMode, keyId: string | undefined): KeySigner;
  all(): readonly KeySigner[];
}
