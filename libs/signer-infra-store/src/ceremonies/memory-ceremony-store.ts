import type { Ceremony, CeremonyPrincipal, CeremonyStatus, CeremonyStore } from '@signer/core';
import { CeremonyTable } from './ceremony-table';

/**
 * {@link CeremonyStore} in process memory: one replica, lost on restart. For the embedded profile
 * and tests; replicas share ceremonies only through PostgreSQL.
 */
export class MemoryCeremonyStore implements CeremonyStore {
  private readonly table: CeremonyTable;

  constructor(options: { maxEntries?: number } = {}) {
    this.table = new CeremonyTable(options.maxEntries);
  }

  async get(id: string): Promise<Ceremony | undefined> {
    return this.table.get(id);
  }

  async list(options: { status?: CeremonyStatus; limit: number }): Promise<Ceremony[]> {
    return this.table.list(options);
  }

  async countOpen(initiator: CeremonyPrincipal, now: string, atMost: number): Promise<number> {
    return this.table.countOpen(initiator, now, atMost);
  }

  async compareAndSet(expectedRevision: number, next: Ceremony): Promise<boolean> {
    return this.table.compareAndSet(expectedRevision, next);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
