import { SignerError } from '../errors';
import { canonicalPublicKeyPem, spkiFingerprint } from './key-fingerprint';
import type { RegisteredKeyMaterial } from './key-lifecycle';
import type { KeyState, ManagedKey, ManagedState, TrustAnchor } from './managed-state';
import { DEFAULT_PROFILE_NAME, type RotationProfile } from './rotation-profile';

/** A configured key (`signing.keys.<name>`) with what loading its reference showed. */
export interface SeedKey extends RegisteredKeyMaterial {
  name: string;
  ref: string;
  state?: KeyState;
  validFrom?: string;
  validUntil?: string;
  profile?: string;
}

export interface SeedOptions {
  keys: readonly SeedKey[];
  /** `signing.defaultKey`; unset: `default` if that key is active, else the first active name in sort order. */
  defaultKey?: string;
  /** `signing.planDefaults`: plan → key name. */
  planDefaults?: Readonly<Record<string, string>>;
  /** The release trust keys of `releaseIntegrity.trustedKeysFiles`. */
  trustAnchors: ReadonlyArray<{ publicKeyPem: string; label?: string }>;
  profiles: Readonly<Record<string, RotationProfile>>;
  now: Date;
}

const refuse = (message: string) => new SignerError('internal_error', `managed state seed: ${message}`);

function seedKey(key: SeedKey, options: SeedOptions): ManagedKey {
  const at = options.now.toISOString();
  const profile = key.profile ?? DEFAULT_PROFILE_NAME;
  const rules = options.profiles[profile];
  if (!rules) throw refuse(`key "${key.name}": expected a configured rotation profile, got "${profile}"`);
  if (!rules.algorithms.includes(key.algorithm))
    throw refuse(
      `key "${key.name}": profile "${profile}" allows ${rules.algorithms.join(', ')}, got ${key.algorithm}`,
    );
  const state = key.state ?? 'active';
  return {
    name: key.name,
    keyId: key.keyId,
    ref: key.ref,
    algorithm: key.algorithm,
    publicKeyPem: key.publicKeyPem,
    state,
    validFrom: key.validFrom ?? at,
    ...(key.validUntil === undefined ? {} : { validUntil: key.validUntil }),
    ...(state === 'revoked' ? { revokedAt: at, revocationReason: 'revoked in configuration' } : {}),
    profile,
    history: [{ state, at }],
  };
}

function activeDefault(keys: readonly ManagedKey[], name: string, what: string): string {
  const key = keys.find((k) => k.name === name);
  if (!key) throw refuse(`${what}: expected a configured key, got "${name}"`);
  if (key.state !== 'active') throw refuse(`${what}: expected an active key, got "${name}" (${key.state})`);
  return name;
}

/**
 * Version 1 of the managed state, from configuration: what a fresh store starts with. Once a
 * store holds a state, the configuration no longer changes it — ceremonies do.
 */
export function seedManagedState(options: SeedOptions): ManagedState {
  const keys = [...options.keys].sort((a, b) => a.name.localeCompare(b.name)).map((k) => seedKey(k, options));
  const seen = new Map<string, string>();
  for (const key of keys) {
    const twin = seen.get(key.keyId);
    if (twin) throw refuse(`keys "${twin}" and "${key.name}" hold the same key material (${key.keyId})`);
    seen.set(key.keyId, key.name);
  }
  const active = keys.filter((k) => k.state === 'active').map((k) => k.name);
  const installation =
    options.defaultKey !== undefined
      ? activeDefault(keys, options.defaultKey, 'signing.defaultKey')
      : active.includes('default')
        ? 'default'
        : active[0];
  const plans: Record<string, string> = {};
  for (const [plan, name] of Object.entries(options.planDefaults ?? {}))
    plans[plan] = activeDefault(keys, name, `signing.planDefaults.${plan}`);
  const anchors = new Map<string, TrustAnchor>();
  for (const anchor of options.trustAnchors) {
    const publicKeyPem = canonicalPublicKeyPem(anchor.publicKeyPem);
    const keyId = spkiFingerprint(publicKeyPem);
    if (!anchors.has(keyId))
      anchors.set(keyId, {
        keyId,
        publicKeyPem,
        ...(anchor.label === undefined ? {} : { label: anchor.label }),
        addedAt: options.now.toISOString(),
      });
  }
  return {
    version: 1,
    updatedAt: options.now.toISOString(),
    keys,
    defaults: { ...(installation === undefined ? {} : { installation }), plans },
    trustAnchors: [...anchors.values()],
  };
}
