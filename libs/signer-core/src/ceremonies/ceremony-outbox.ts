import { SignerError } from '../errors';
import type { AuditLookup } from '../ports/audit-lookup';
import type { AuditSink } from '../ports/audit-sink';
import type { Clock } from '../ports/clock';
import type {
  Ceremony,
  CeremonyAuditEntry,
  CeremonyPrincipal,
  CeremonyStepName,
  CeremonyStore,
} from './ceremony';
import { samePrincipal } from './ceremony-rules';

/**
 * How long the step that committed an event record alone may write it. Far longer than one append
 * may take (PostgreSQL: 2 s to connect + 5 s per commit), so a live writer is never overtaken; a
 * writer that failed releases its lease at once, so only a crash makes others wait this long.
 */
export const DEFAULT_CEREMONY_AUDIT_LEASE_SECONDS = 30;

export interface CeremonyOutboxOptions {
  store: CeremonyStore;
  audit: AuditSink;
  lookup: AuditLookup;
  clock: Clock;
  maxAttempts: number;
  leaseSeconds?: number;
}

/** What a step asks of the outbox before it judges: its own step, to recognise its retry. */
export interface SettleFor {
  owner: string;
  step?: CeremonyStepName;
  principal?: CeremonyPrincipal;
}

/**
 * The ceremony's outbox (its `unaudited` entries): event records committed in the same
 * compare-and-set as the change that caused them, then appended to the audit trail, then cleared.
 * An entry is written by one writer at a time (its lease, taken by compare-and-set); a writer that
 * takes over an entry asks the trail whether the record is already there before appending it, so a
 * record is written once even when its first writer's outcome is unknown.
 */
export class CeremonyOutbox {
  private readonly leaseMs: number;

  constructor(private readonly options: CeremonyOutboxOptions) {
    this.leaseMs = (options.leaseSeconds ?? DEFAULT_CEREMONY_AUDIT_LEASE_SECONDS) * 1000;
  }

  /** A lease for entries about to be committed by `owner`. */
  lease(owner: string): CeremonyAuditEntry['lease'] {
    return { owner, until: new Date(this.options.clock.now().getTime() + this.leaseMs).toISOString() };
  }

  /**
   * Writes the entries whose lease ran out (taking them over by compare-and-set first), skipping
   * those the trail already holds, and clears them. Entries still leased to a live writer are left
   * to it, unless they are the caller's own earlier step (a retry): that answers 503 until the
   * earlier request has finished or released them. Throws the trail's failure (after releasing the
   * takeover); the step must then answer without changing anything.
   */
  async settle(
    current: Ceremony,
    caller: SettleFor,
  ): Promise<{ ceremony: Ceremony; settled: CeremonyAuditEntry[] }> {
    let ceremony = current;
    for (let attempt = 0; attempt < this.options.maxAttempts; attempt += 1) {
      const now = this.options.clock.now().getTime();
      const entries = ceremony.unaudited ?? [];
      const earlier = entries.find((e) => Date.parse(e.lease.until) > now && isRetryOf(e, caller));
      if (earlier)
        throw new SignerError(
          'upstream_unavailable',
          `ceremony ${ceremony.id}: the records of an earlier ${earlier.step} are still being written`,
          {
            upstream: 'audit',
            retryAfterSeconds: Math.max(1, Math.ceil((Date.parse(earlier.lease.until) - now) / 1000)),
          },
        );
      const due = entries.filter((e) => Date.parse(e.lease.until) <= now);
      if (due.length === 0) return { ceremony, settled: [] };
      const lease = this.lease(caller.owner);
      const taken: Ceremony = {
        ...ceremony,
        unaudited: entries.map((e) => (due.includes(e) ? { ...e, lease } : e)),
        revision: ceremony.revision + 1,
      };
      if (!(await this.options.store.compareAndSet(ceremony.revision, taken))) {
        ceremony = await this.reread(ceremony.id);
        continue;
      }
      const ids = due.map((e) => e.record.auditId);
      try {
        const present = await this.options.lookup.recorded(ids);
        // One at a time, in commit order: `approved` before `threshold_reached` in the trail.
        for (const entry of due)
          if (!present.has(entry.record.auditId)) await this.options.audit.append(entry.record);
      } catch (error) {
        await this.release(ceremony.id, ids, caller.owner);
        throw error;
      }
      return { ceremony: (await this.clear(ceremony.id, ids)) ?? taken, settled: due };
    }
    throw new SignerError('upstream_unavailable', `ceremony ${ceremony.id}: too many concurrent changes`, {
      upstream: 'state',
      retryAfterSeconds: 1,
    });
  }

  /**
   * Removes written entries. Best effort: if the store fails, they stay until their lease runs out
   * and the next step finds them in the trail. Returns the ceremony as stored after, when it could.
   */
  async clear(id: string, auditIds: readonly string[]): Promise<Ceremony | undefined> {
    return this.rewrite(id, (entries) => entries.filter((e) => !auditIds.includes(e.record.auditId)));
  }

  /**
   * Ends `owner`'s lease on entries it could not (or may not have) written, so the next step takes
   * them over at once instead of after the lease. Best effort, like {@link clear}.
   */
  async release(id: string, auditIds: readonly string[], owner: string): Promise<void> {
    const until = this.options.clock.now().toISOString();
    await this.rewrite(id, (entries) =>
      entries.map((e) =>
        auditIds.includes(e.record.auditId) && e.lease.owner === owner
          ? { ...e, lease: { owner, until } }
          : e,
      ),
    );
  }

  private async rewrite(
    id: string,
    change: (entries: CeremonyAuditEntry[]) => CeremonyAuditEntry[],
  ): Promise<Ceremony | undefined> {
    try {
      for (let attempt = 0; attempt < this.options.maxAttempts; attempt += 1) {
        const current = await this.reread(id);
        const entries = current.unaudited ?? [];
        const changed = change(entries);
        if (changed.length === entries.length && changed.every((e, i) => e === entries[i])) return current;
        const { unaudited: _old, ...rest } = current;
        const next: Ceremony = {
          ...rest,
          ...(changed.length > 0 ? { unaudited: changed } : {}),
          revision: current.revision + 1,
        };
        if (await this.options.store.compareAndSet(current.revision, next)) return next;
      }
    } catch {
      // The entries stay; their lease decides who writes them next.
    }
    return undefined;
  }

  private async reread(id: string): Promise<Ceremony> {
    const ceremony = await this.options.store.get(id);
    if (!ceremony) throw new SignerError('ceremony_not_found', `no ceremony ${id}`);
    return ceremony;
  }
}

function isRetryOf(entry: CeremonyAuditEntry, caller: SettleFor): boolean {
  return (
    caller.step !== undefined &&
    caller.principal !== undefined &&
    entry.lease.owner !== caller.owner &&
    entry.step === caller.step &&
    samePrincipal(entry.principal, caller.principal)
  );
}
