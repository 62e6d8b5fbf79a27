/**
 * Managed signing state (issue 17): the key set and the trusted release keys (trust anchors),
 * changed at run time by executed ceremonies and applied by every replica within a stated bound.
 * Key *material* stays behind its reference (file, KMS, PKCS#11); this state holds only public
 * facts: which keys exist, their lifecycle, validity and history.
 */

/** A signing key's lifecycle state (contract §2.3, `/keys`). */
export type KeyState = 'pending' | 'active' | 'retired' | 'revoked';

/** One transition in a key's or anchor's history, oldest first. */
export interface StateTransition {
  state: KeyState | 'added' | 'removed';
  /** RFC 3339 UTC, the commit time of the change. */
  at: string;
  /** The ceremony that made the change (absent for the seed from configuration). */
  ceremonyId?: string;
}

export interface ManagedKey {
  /** Operator label (the configuration name); unique. Requests may name a key by label or keyId. */
  name: string;
  /**
   * Stable DSSE `keyid`: `sha256:<hex>` of the public key's SPKI DER. Identifies the key
   * material, whatever its label or reference.
   */
  keyId: string;
  /** The key reference (`file:`, `awskms:`, `gcpkms:`, `pkcs11:`) — never secret material. */
  ref: string;
  /** JOSE-style algorithm name as published in `/keys` (ES256, ES384, PS256, RS256, EdDSA). */
  algorithm: string;
  publicKeyPem: string;
  state: KeyState;
  /** RFC 3339 UTC; the key may sign only from here (when active). */
  validFrom: string;
  /** RFC 3339 UTC; absent = until retired by policy (profile maxAgeDays from validFrom). */
  validUntil?: string;
  /** Set when revoked: the commit time of the revocation. */
  revokedAt?: string;
  revocationReason?: string;
  /** Rotation profile name (config `signing.rotation.profiles`). */
  profile: string;
  history: StateTransition[];
}

export interface TrustAnchor {
  /** `sha256:<hex>` of the SPKI DER (the same form the release verifier uses). */
  keyId: string;
  publicKeyPem: string;
  label?: string;
  /** RFC 3339 UTC. */
  addedAt: string;
  ceremonyId?: string;
}

/** The whole managed state; replaced as one document, versioned for compare-and-set. */
export interface ManagedState {
  /** Increments by one with every committed change; 1 = seeded from configuration. */
  version: number;
  /** RFC 3339 UTC of the last change. */
  updatedAt: string;
  keys: ManagedKey[];
  /** Default key (by name) for the installation, and per plan (plan → key name). */
  defaults: { installation?: string; plans: Record<string, string> };
  trustAnchors: TrustAnchor[];
}

/**
 * Where the managed state lives: PostgreSQL when configured (shared by every replica), a file or
 * memory in the embedded profile. Contract: `compareAndSet` writes `next` only if the stored
 * version equals `expectedVersion` (0 = nothing stored yet), atomically; it returns false on a
 * conflict and throws `upstream_unavailable` when the store cannot be reached.
 */
export interface ManagedStateStore {
  load(): Promise<ManagedState | undefined>;
  compareAndSet(expectedVersion: number, next: ManagedState): Promise<boolean>;
  close(): Promise<void>;
}
