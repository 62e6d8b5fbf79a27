import type { CeremonyOperation, ManagedStateAdministrator } from '../ceremonies/ceremony';
import { SignerError } from '../errors';
import type { Clock } from '../ports/clock';
import { applyOperation, type RegisteredKeyMaterial } from './key-lifecycle';
import type { ManagedState, ManagedStateStore } from './managed-state';
import type { ManagedStateView } from './managed-state-view';
import type { RotationProfile } from './rotation-profile';

/** Loads a key reference and reports its public facts (the same construction signing uses). */
export type KeyMaterialInspector = (ref: string) => Promise<RegisteredKeyMaterial>;

export interface StateAdministratorOptions {
  store: ManagedStateStore;
  /** This replica's view: a committed change is applied to it at once. */
  view?: ManagedStateView;
  inspect: KeyMaterialInspector;
  clock: Clock;
  profiles: Readonly<Record<string, RotationProfile>>;
  /** Called after each commit (metrics). */
  onCommitted?: (operation: CeremonyOperation, state: ManagedState) => void;
  /** Compare-and-set attempts before giving up on a store that keeps moving. */
  maxAttempts?: number;
}

export const DEFAULT_STATE_CAS_ATTEMPTS = 5;

/**
 * Applies an executed ceremony's operation: reads the stored state, applies the lifecycle rules,
 * and commits with compare-and-set — on a lost race it re-reads and re-checks, so a change is
 * always judged against the state it lands on.
 */
export class StateAdministrator implements ManagedStateAdministrator {
  constructor(private readonly options: StateAdministratorOptions) {}

  async apply(operation: CeremonyOperation, ceremonyId: string): Promise<ManagedState> {
    const { store, clock, profiles } = this.options;
    const registered =
      operation.kind === 'key.register' ? await this.options.inspect(operation.ref) : undefined;
    const attempts = this.options.maxAttempts ?? DEFAULT_STATE_CAS_ATTEMPTS;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const current = await store.load();
      if (!current)
        throw new SignerError('internal_error', 'the managed state store holds no state (not seeded)');
      const next = applyOperation(current, operation, { now: clock.now(), ceremonyId, registered, profiles });
      if (await store.compareAndSet(current.version, next)) {
        this.options.view?.accept(next);
        this.options.onCommitted?.(operation, next);
        return next;
      }
    }
    throw new SignerError(
      'upstream_unavailable',
      `managed state changed concurrently ${attempts} times in a row; try again`,
      { upstream: 'state', retryAfterSeconds: 1 },
    );
  }
}
