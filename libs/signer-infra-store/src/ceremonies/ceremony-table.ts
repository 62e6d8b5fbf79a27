import {
  samePrincipal,
  SignerError,
  type Ceremony,
  type CeremonyPrincipal,
  type CeremonyStatus,
} from '@signer/core';

/** Ceremonies one memory or file store holds; past it the oldest final ones are dropped. */
export const DEFAULT_MAX_STORED_CEREMONIES = 10_000;

const OPEN: ReadonlySet<CeremonyStatus> = new Set(['pending', 'approved']);

/**
 * The ceremonies of a memory or file store, with the store contract's compare-and-set. Bounded:
 * adding past `maxEntries` forgets the oldest final ceremony whose event records are all written
 * (its events stay in the audit trail; one with records still in its outbox is kept, or they would
 * be lost); when no stored ceremony can be forgotten, a new one is refused.
 */
export class CeremonyTable {
  private readonly entries = new Map<string, Ceremony>();

  constructor(private readonly maxEntries = DEFAULT_MAX_STORED_CEREMONIES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new SignerError('internal_error', `maxEntries: expected an integer ≥ 1, got ${maxEntries}`);
  }

  static from(ceremonies: readonly Ceremony[], maxEntries?: number): CeremonyTable {
    const table = new CeremonyTable(maxEntries);
    for (const ceremony of ceremonies) table.entries.set(ceremony.id, ceremony);
    return table;
  }

  get(id: string): Ceremony | undefined {
    const found = this.entries.get(id);
    return found === undefined ? undefined : structuredClone(found);
  }

  /** Newest first: ids are UUIDv7, so their order is creation order. */
  list(options: { status?: CeremonyStatus; limit: number }): Ceremony[] {
    return [...this.entries.values()]
      .filter((c) => options.status === undefined || c.status === options.status)
      .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, Math.max(0, options.limit))
      .map((c) => structuredClone(c));
  }

  /** Open, not expired ceremonies of `initiator` (the store contract's `countOpen`). */
  countOpen(initiator: CeremonyPrincipal, now: string, atMost: number): number {
    const at = Date.parse(now);
    let count = 0;
    for (const ceremony of this.entries.values()) {
      if (count >= atMost) break;
      if (
        OPEN.has(ceremony.status) &&
        Date.parse(ceremony.expiresAt) > at &&
        samePrincipal(ceremony.initiator, initiator)
      )
        count += 1;
    }
    return count;
  }

  /** The change `compareAndSet` would make, without making it: undefined on a conflict. */
  check(expectedRevision: number, next: Ceremony): (() => void) | undefined {
    assertNextRevision(expectedRevision, next);
    if ((this.entries.get(next.id)?.revision ?? 0) !== expectedRevision) return undefined;
    const evict =
      expectedRevision === 0 && this.entries.size >= this.maxEntries ? this.oldestFinal() : undefined;
    if (expectedRevision === 0 && this.entries.size >= this.maxEntries && evict === undefined)
      throw new SignerError(
        'upstream_unavailable',
        `ceremony store full: ${this.maxEntries} ceremonies open or with unwritten records`,
        {
          upstream: 'state',
        },
      );
    const copy = structuredClone(next);
    return () => {
      if (evict !== undefined) this.entries.delete(evict);
      this.entries.set(copy.id, copy);
    };
  }

  compareAndSet(expectedRevision: number, next: Ceremony): boolean {
    const commit = this.check(expectedRevision, next);
    commit?.();
    return commit !== undefined;
  }

  /** An independent copy with the same bound (to write a change before it is visible). */
  clone(): CeremonyTable {
    return CeremonyTable.from(
      this.all().map((c) => structuredClone(c)),
      this.maxEntries,
    );
  }

  all(): Ceremony[] {
    return [...this.entries.values()];
  }

  private oldestFinal(): string | undefined {
    let oldest: string | undefined;
    for (const [id, ceremony] of this.entries)
      if (
        !OPEN.has(ceremony.status) &&
        (ceremony.unaudited ?? []).length === 0 &&
        (oldest === undefined || id < oldest)
      )
        oldest = id;
    return oldest;
  }
}

/** Every store enforces the revision rule, so a caller bug cannot rewind a ceremony. */
export function assertNextRevision(expectedRevision: number, next: Ceremony): void {
  if (next.revision !== expectedRevision + 1)
    throw new SignerError(
      'internal_error',
      `ceremony ${next.id}: expected revision ${expectedRevision + 1}, got ${next.revision}`,
    );
}
