import { basename } from 'node:path';
import {
  DEFAULT_ROTATION_PROFILE,
  daysToExpiry,
  inWarningPeriod,
  ManagedKeySignerRegistry,
  ManagedStateView,
  seedManagedState,
  SignerError,
  spkiFingerprint,
  StateAdministrator,
  type Clock,
  type ManagedKey,
  type ManagedStateStore,
  type RotationProfile,
} from '@signer/core';
import { parseKeyRef } from '@signer/infra-kms';
import { loadTrustedKeys } from '@signer/infra-oci';
import {
  FileManagedStateStore,
  MemoryManagedStateStore,
  PostgresManagedStateStore,
} from '@signer/infra-store';
import type { SignerConfig } from '../config/config-schema';
import type { SignerMetrics } from '../observability/metrics';
import { KeyBackends } from './key-backends';
import { createKeylessSigner, kmsShaper, type BuiltSigner } from './key-signers';
import type { ReadinessCheck } from './readiness';
import type { SharedState } from './shared-state';

/** The managed keys of one replica (contract §11): state view, registry, and the ceremony hook. */
export interface ManagedKeys {
  view: ManagedStateView;
  registry: ManagedKeySignerRegistry;
  /** The `ManagedStateAdministrator` executed ceremonies call (commits, then applies locally at once). */
  administrator: StateAdministrator;
  profiles: Readonly<Record<string, RotationProfile>>;
  readiness: ReadinessCheck[];
  /**
   * Configured keys (name and ref) the stored state does not hold: the store was seeded before
   * they were added, and configuration no longer changes it — a ceremony must register them.
   */
  unmanagedConfigKeys: string[];
  /** Admin `/readyz` detail: state freshness and keys inside their warning period. */
  details(): Record<string, unknown>;
  close(): Promise<void>;
}

/** `signing.rotation.profiles`, with the built-in `default` unless configured. */
export function rotationProfiles(config: SignerConfig): Record<string, RotationProfile> {
  return { default: DEFAULT_ROTATION_PROFILE, ...config.signing.rotation.profiles };
}

/** The store `state.store` names; PostgreSQL is shared by every replica, the others are per process. */
export async function openStateStore(config: SignerConfig): Promise<ManagedStateStore> {
  switch (config.state.store) {
    case 'postgres':
      return PostgresManagedStateStore.open({ connectionString: config.state.postgresUrl as string });
    case 'file':
      return new FileManagedStateStore({ filePath: config.state.filePath as string });
    default:
      return new MemoryManagedStateStore();
  }
}

async function seedIfEmpty(
  config: SignerConfig,
  store: ManagedStateStore,
  backends: KeyBackends,
  profiles: Record<string, RotationProfile>,
  clock: Clock,
): Promise<void> {
  // Configured keys are loaded at every start, seeded or not: a key that cannot sign as
  // configured stops the process here, as it always has. One at a time, as before: a start-up
  // burst of GetPublicKey calls must not run a slow KMS past its deadline.
  const names = Object.keys(config.signing.keys).sort();
  const built: BuiltSigner[] = [];
  for (const name of names) built.push(await backends.get(name, config.signing.keys[name].ref));
  if (await store.load()) return;
  const keys = await Promise.all(
    names.map(async (name, i) => {
      const key = config.signing.keys[name];
      const { publicKeyPem } = await built[i].signer.describe();
      return {
        name,
        ref: key.ref,
        keyId: spkiFingerprint(publicKeyPem),
        algorithm: built[i].signer.algorithm,
        publicKeyPem,
        state: key.state,
        validFrom: key.validFrom,
        validUntil: key.validUntil,
        profile: key.profile,
      };
    }),
  );
  const anchors = await Promise.all(
    config.releaseIntegrity.trustedKeysFiles.map(async (file) =>
      (await loadTrustedKeys([file])).map((k) => ({ publicKeyPem: k.publicKeyPem, label: basename(file) })),
    ),
  );
  const seed = seedManagedState({
    keys,
    defaultKey: config.signing.defaultKey,
    planDefaults: config.signing.planDefaults,
    trustAnchors: anchors.flat(),
    profiles,
    now: clock.now(),
  });
  // Lost to a replica seeding at the same moment: its seed (from the same configuration) stands.
  await store.compareAndSet(0, seed);
}

const ROTATION_EVENTS: Record<string, string> = {
  'key.register': 'registered',
  'key.activate': 'activated',
  'key.retire': 'retired',
  'key.revoke': 'revoked',
};

/**
 * Managed keys (contract §11): configured keys seed an empty store; every replica reads the
 * store through a {@link ManagedStateView} and signs only with keys the view allows; executed
 * ceremonies commit through `administrator`, which applies the change to this replica at once.
 */
export async function createManagedKeys(
  config: SignerConfig,
  clock: Clock,
  shared: SharedState,
  metrics: SignerMetrics,
): Promise<ManagedKeys> {
  const profiles = rotationProfiles(config);
  const backends = new KeyBackends(config, { clock, shaper: kmsShaper(clock, shared) });
  const store = await openStateStore(config);
  let view: ManagedStateView | undefined;
  try {
    await seedIfEmpty(config, store, backends, profiles, clock);
    view = await ManagedStateView.open({
      store,
      refreshIntervalMs: config.state.refreshIntervalMs,
      maxStalenessMs: config.state.maxStalenessMs,
    });
  } catch (error) {
    await backends.close();
    await store.close().catch(() => undefined);
    throw error;
  }
  const opened = view;
  const keyless = createKeylessSigner(config, clock);
  const registry = new ManagedKeySignerRegistry({
    view: opened,
    factory: (key: ManagedKey) => signerOf(backends, key),
    keyless: keyless?.signer,
    clock,
    profiles,
  });
  // A stored key whose reference no longer loads refuses its own requests; the others still sign.
  await registry.warm().catch(() => undefined);
  const administrator = new StateAdministrator({
    store,
    view: opened,
    inspect: (ref) => backends.inspect(ref),
    clock,
    profiles,
    onCommitted: (operation) => {
      const event = ROTATION_EVENTS[operation.kind];
      if (event) metrics.rotationEvents.inc({ event });
      if (operation.kind === 'key.revoke') metrics.keysRevoked.inc();
    },
  });
  metrics.observeKeyExpiry(() =>
    opened
      .snapshot()
      .keys.filter((k) => k.state === 'active')
      .map((k) => ({ key: k.name, days: daysToExpiry(k, clock.now(), profiles[k.profile]) })),
  );
  const readiness: ReadinessCheck[] = [
    {
      name: 'state',
      check: async () => {
        if (opened.freshness().stale) throw new Error('managed state is stale');
      },
    },
    ...configuredKeyProbes(config, backends),
    ...(keyless ? [keyless.readiness] : []),
  ];
  return {
    view: opened,
    registry,
    administrator,
    profiles,
    readiness,
    unmanagedConfigKeys: Object.keys(config.signing.keys)
      .sort()
      .filter(
        (name) =>
          !opened.snapshot().keys.some((k) => k.name === name && k.ref === config.signing.keys[name].ref),
      ),
    details: () => ({
      state: opened.freshness(),
      keyWarnings: opened
        .snapshot()
        .keys.filter((k) => inWarningPeriod(k, clock.now(), profiles[k.profile]))
        .map((k) => ({
          key: k.name,
          keyId: k.keyId,
          daysToExpiry: Math.floor(daysToExpiry(k, clock.now(), profiles[k.profile]) ?? 0),
        })),
    }),
    close: async () => {
      opened.close();
      await backends.close();
      await store.close().catch(() => undefined);
    },
  };
}

/**
 * The backend signer of a managed key, at signing time. A backend that will not load then is an
 * unavailable upstream (503, retried by the next request: failed builds are not cached); at start
 * the same failure stops the process with the backend's own message.
 */
async function signerOf(backends: KeyBackends, key: ManagedKey) {
  try {
    return (await backends.get(key.name, key.ref)).signer;
  } catch (error) {
    if (error instanceof SignerError) throw error;
    throw new SignerError('upstream_unavailable', `signing key "${key.name}": its backend did not load`, {
      upstream: 'kms',
      cause: error,
      retryAfterSeconds: 1,
    });
  }
}

// `/readyz`: each configured cloud or HSM key answers with its published key (as before issue 17).
function configuredKeyProbes(config: SignerConfig, backends: KeyBackends): ReadinessCheck[] {
  return Object.keys(config.signing.keys)
    .sort()
    .filter((name) =>
      ['awskms', 'gcpkms', 'pkcs11'].includes(parseKeyRef(config.signing.keys[name].ref).scheme),
    )
    .map((name) => ({
      name: `kms:${name}`,
      check: async () => {
        const { probe } = await backends.get(name, config.signing.keys[name].ref);
        await probe?.();
      },
    }));
}
