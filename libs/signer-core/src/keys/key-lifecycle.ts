import type { CeremonyOperation } from '../ceremonies/ceremony';
import { SignerError } from '../errors';
import { anchorKeyProblem, canonicalPublicKeyPem, spkiFingerprint } from './key-fingerprint';
import type { KeyState, ManagedKey, ManagedState, TrustAnchor } from './managed-state';
import { DEFAULT_PROFILE_NAME, type RotationProfile } from './rotation-profile';

/**
 * The lifecycle (contract §11): pending → active → retired, and any of those → revoked. Nothing
 * leaves `revoked`. `retired → active` is refused: a retired key's signatures are still verified
 * by relying parties against its validity window, and re-opening that window silently would make
 * "retired" mean nothing; bringing the material back is a new `key.register` — which is also
 * refused, because a fingerprint is never registered twice.
 */
export const KEY_TRANSITIONS: Readonly<Record<KeyState, readonly KeyState[]>> = {
  pending: ['active', 'revoked'],
  active: ['retired', 'revoked'],
  retired: ['revoked'],
  revoked: [],
};

/** The public facts of a key loaded from its reference, for `key.register`. */
export interface RegisteredKeyMaterial {
  keyId: string;
  algorithm: string;
  publicKeyPem: string;
}

export interface ApplyContext {
  /** The commit time of the change. */
  now: Date;
  ceremonyId: string;
  /** Required for `key.register`: what loading the reference showed. */
  registered?: RegisteredKeyMaterial;
  profiles: Readonly<Record<string, RotationProfile>>;
}

const conflict = (message: string) => new SignerError('key_state_conflict', message);

function keyNamed(state: ManagedState, name: string): ManagedKey {
  const key = state.keys.find((k) => k.name === name);
  if (!key) throw conflict(`expected a managed key named "${name}", got none`);
  return key;
}

function transition(key: ManagedKey, to: KeyState, context: ApplyContext): ManagedKey {
  if (!KEY_TRANSITIONS[key.state].includes(to)) {
    const allowed = KEY_TRANSITIONS[key.state];
    throw conflict(
      `key "${key.name}": expected a transition from ${key.state} to ${allowed.length ? allowed.join(' or ') : 'nothing (final)'}, got ${to}`,
    );
  }
  return {
    ...key,
    state: to,
    history: [...key.history, { state: to, at: context.now.toISOString(), ceremonyId: context.ceremonyId }],
  };
}

/** Defaults always name an active key: the invariant every operation keeps. */
function defaultsNaming(state: ManagedState, name: string): string[] {
  const { installation, plans } = state.defaults;
  return [
    ...(installation === name ? ['the installation'] : []),
    ...Object.keys(plans)
      .filter((plan) => plans[plan] === name)
      .map((plan) => `plan "${plan}"`),
  ];
}

function withoutDefault(defaults: ManagedState['defaults'], name: string): ManagedState['defaults'] {
  const plans = Object.fromEntries(Object.entries(defaults.plans).filter(([, key]) => key !== name));
  return { plans, ...(defaults.installation === name ? {} : { installation: defaults.installation }) };
}

function replaceKey(state: ManagedState, next: ManagedKey): ManagedKey[] {
  return state.keys.map((k) => (k.name === next.name ? next : k));
}

function register(
  state: ManagedState,
  op: Extract<CeremonyOperation, { kind: 'key.register' }>,
  context: ApplyContext,
): Partial<ManagedState> {
  const material = context.registered;
  if (!material)
    throw new SignerError('internal_error', 'key.register applied without the loaded key material');
  if (state.keys.some((k) => k.name === op.name)) throw conflict(`a key named "${op.name}" already exists`);
  const twin = state.keys.find((k) => k.keyId === material.keyId);
  if (twin) throw conflict(`key material ${material.keyId} is already registered as "${twin.name}"`);
  const profileName = op.profile ?? DEFAULT_PROFILE_NAME;
  const profile = context.profiles[profileName];
  if (!profile) throw conflict(`expected a configured rotation profile, got "${profileName}"`);
  if (!profile.algorithms.includes(material.algorithm)) {
    throw conflict(
      `profile "${profileName}": expected one of ${profile.algorithms.join(', ')}, got ${material.algorithm}`,
    );
  }
  const validFrom = op.validFrom ?? context.now.toISOString();
  if (op.validUntil !== undefined && Date.parse(op.validUntil) <= Date.parse(validFrom))
    throw conflict(`expected validUntil after validFrom (${validFrom}), got ${op.validUntil}`);
  const key: ManagedKey = {
    name: op.name,
    keyId: material.keyId,
    ref: op.ref,
    algorithm: material.algorithm,
    publicKeyPem: material.publicKeyPem,
    state: 'pending',
    validFrom,
    ...(op.validUntil === undefined ? {} : { validUntil: op.validUntil }),
    profile: profileName,
    history: [{ state: 'pending', at: context.now.toISOString(), ceremonyId: context.ceremonyId }],
  };
  return { keys: [...state.keys, key] };
}

function retire(state: ManagedState, name: string, context: ApplyContext): Partial<ManagedState> {
  const key = keyNamed(state, name);
  const defaults = defaultsNaming(state, name);
  // Retiring is planned: the operator names the successor first, so callers that name no key
  // never meet a gap. Revocation (an emergency) does not wait for that.
  if (key.state === 'active' && defaults.length > 0)
    throw conflict(`key "${name}" is the default for ${defaults.join(', ')}: set another default first`);
  return { keys: replaceKey(state, transition(key, 'retired', context)) };
}

function revoke(
  state: ManagedState,
  name: string,
  reason: string,
  context: ApplyContext,
): Partial<ManagedState> {
  const key = transition(keyNamed(state, name), 'revoked', context);
  const revoked = { ...key, revokedAt: context.now.toISOString(), revocationReason: reason };
  return { keys: replaceKey(state, revoked), defaults: withoutDefault(state.defaults, name) };
}

function setDefault(state: ManagedState, name: string, plan: string | undefined): Partial<ManagedState> {
  const key = keyNamed(state, name);
  if (key.state !== 'active')
    throw conflict(`key "${name}": expected an active key as default, got ${key.state}`);
  return {
    defaults:
      plan === undefined
        ? { ...state.defaults, installation: name }
        : { ...state.defaults, plans: { ...state.defaults.plans, [plan]: name } },
  };
}

function addAnchor(
  state: ManagedState,
  publicKeyPem: string,
  label: string | undefined,
  context: ApplyContext,
) {
  const pem = canonicalPublicKeyPem(publicKeyPem);
  const problem = anchorKeyProblem(pem);
  if (problem) throw conflict(`trust anchor: ${problem}`);
  const keyId = spkiFingerprint(pem);
  if (state.trustAnchors.some((a) => a.keyId === keyId))
    throw conflict(`trust anchor ${keyId} already exists`);
  const anchor: TrustAnchor = {
    keyId,
    publicKeyPem: pem,
    ...(label === undefined ? {} : { label }),
    addedAt: context.now.toISOString(),
    ceremonyId: context.ceremonyId,
  };
  return { trustAnchors: [...state.trustAnchors, anchor] };
}

function removeAnchor(state: ManagedState, keyId: string): Partial<ManagedState> {
  if (!state.trustAnchors.some((a) => a.keyId === keyId))
    throw conflict(`expected a trust anchor ${keyId}, got none`);
  // No anchor would make every release untrusted: an outage, not a policy. Add the successor first.
  if (state.trustAnchors.length === 1)
    throw conflict(`trust anchor ${keyId} is the last one: add another first`);
  return { trustAnchors: state.trustAnchors.filter((a) => a.keyId !== keyId) };
}

function change(state: ManagedState, op: CeremonyOperation, context: ApplyContext): Partial<ManagedState> {
  switch (op.kind) {
    case 'key.register':
      return register(state, op, context);
    case 'key.activate':
      return { keys: replaceKey(state, transition(keyNamed(state, op.name), 'active', context)) };
    case 'key.retire':
      return retire(state, op.name, context);
    case 'key.revoke':
      return revoke(state, op.name, op.reason, context);
    case 'key.set-default':
      return setDefault(state, op.name, op.plan);
    case 'trust-anchor.add':
      return addAnchor(state, op.publicKeyPem, op.label, context);
    case 'trust-anchor.remove':
      return removeAnchor(state, op.keyId);
  }
}

/**
 * The state after `op`, committed at `context.now`: version + 1, the key's history extended.
 * Pure: refusals are `key_state_conflict` naming what was expected and what was found.
 */
export function applyOperation(
  state: ManagedState,
  op: CeremonyOperation,
  context: ApplyContext,
): ManagedState {
  return {
    ...state,
    ...change(state, op, context),
    version: state.version + 1,
    updatedAt: context.now.toISOString(),
  };
}
