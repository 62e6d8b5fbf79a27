import type { ManagedState, ManagedStateStore } from '@signer/core';

/**
 * The managed state in this process only (embedded profile, single replica): every start re-seeds
 * it from configuration. Stored as a copy so callers cannot change it behind the version.
 */
export class MemoryManagedStateStore implements ManagedStateStore {
  private stored: ManagedState | undefined;

  async load(): Promise<ManagedState | undefined> {
    return this.stored === undefined ? undefined : structuredClone(this.stored);
  }

  async compareAndSet(expectedVersion: number, next: ManagedState): Promise<boolean> {
    if ((this.stored?.version ?? 0) !== expectedVersion) return false;
    this.stored = structuredClone(next);
    return true;
  }

  async close(): Promise<void> {
    // Nothing to release: the state lives in this object.
  }
}
