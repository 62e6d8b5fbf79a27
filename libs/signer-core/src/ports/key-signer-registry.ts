import type { SigningMode } from '../model';
import type { KeySigner } from './key-signer';

/** What a registry may use to pick the default key: the caller's plan (from the entitlement). */
export interface ResolveContext {
  plan?: string;
}

/**
 * Picks the signer for a request. Contract: an unknown key id or an unconfigured mode is
 * `invalid_request`; a known key that may not sign now is `key_not_active`; it never falls back
 * to another key silently.
 */
export interface KeySignerRegistry {
  resolve(mode: SigningMode, keyId: string | undefined, context?: ResolveContext): KeySigner;
  all(): readonly KeySigner[];
}
