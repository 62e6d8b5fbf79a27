import type { DecisionLog } from '../pipeline/decision-log';
import type { DecisionTrail } from '../pipeline/decision-trail';
import type {
  Ceremony,
  CeremonyAuditEntry,
  CeremonyEvent,
  CeremonyPrincipal,
  CeremonyStepName,
} from './ceremony';
import { ceremonyTarget } from './ceremony-operation';
import type { CeremonyOutbox } from './ceremony-outbox';

/** Who takes a step, and the lease owner of the records it commits. */
export interface CeremonyActor {
  step: CeremonyStepName;
  principal: CeremonyPrincipal;
  owner: string;
}

/** A step's event records: the decisions that write them and the outbox entries committed with it. */
export interface PreparedRecords {
  trails: DecisionTrail[];
  entries: CeremonyAuditEntry[];
}

/**
 * Makes a step's `ceremony` records before its commit (so their audit ids and content are fixed
 * and can travel in the outbox) and writes them after it.
 */
export class CeremonyRecorder {
  constructor(
    private readonly decisions: DecisionLog,
    private readonly outbox: CeremonyOutbox,
  ) {}

  /**
   * One record per event: the first is the request's own decision; each further one (or an expiry
   * found on the way, `ownTrail`) is a decision of its own with the same caller, correlation id
   * and route.
   */
  prepare(
    trail: DecisionTrail,
    ceremony: Ceremony,
    events: readonly CeremonyEvent[],
    actor: CeremonyActor,
    ownTrail = false,
  ): PreparedRecords {
    const lease = this.outbox.lease(actor.owner);
    const trails = events.map((event, index) => {
      const target = index === 0 && !ownTrail ? trail : this.follow(trail);
      target.record.ceremony = {
        id: ceremony.id,
        event,
        operation: ceremony.operation.kind,
        target: ceremonyTarget(ceremony.operation),
        approvals: ceremony.approvals.length,
        threshold: ceremony.threshold,
      };
      return target;
    });
    const entries = trails.map((t) => ({
      record: structuredClone(t.finish('ceremony')),
      step: actor.step,
      principal: actor.principal,
      lease,
    }));
    return { trails, entries };
  }

  /**
   * Writes a committed step's records, durably, before the step answers; then clears them from the
   * outbox (returning the ceremony as then stored, unless the store failed). If any write fails, the
   * lease is released (the next step asks the trail which records are missing and writes them) and
   * the failure is the answer: the change stands.
   */
  async deliver(id: string, prepared: PreparedRecords, owner: string): Promise<Ceremony | undefined> {
    const ids = prepared.entries.map((e) => e.record.auditId);
    // Every write settles before the lease is released: none may still be in flight when another
    // writer asks the trail what is missing.
    const results = await Promise.allSettled(
      prepared.trails.map((t) => this.decisions.finish(t, 'ceremony')),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.outbox.release(id, ids, owner);
      throw failed.reason;
    }
    return this.outbox.clear(id, ids);
  }

  /** A further decision caused by the same request. */
  private follow(trail: DecisionTrail): DecisionTrail {
    const { correlationId, route, tenant, installation, caller, binding, gates } = trail.record;
    const next = this.decisions.begin(correlationId, route);
    Object.assign(next.record, {
      ...(tenant === undefined ? {} : { tenant }),
      ...(installation === undefined ? {} : { installation }),
      ...(caller === undefined ? {} : { caller: { ...caller } }),
      ...(binding === undefined ? {} : { binding: { ...binding } }),
      gates: { ...gates },
    });
    return next;
  }
}

/** `ceremony` with the prepared records added to its outbox. */
export function withRecords(ceremony: Ceremony, prepared: PreparedRecords): Ceremony {
  return { ...ceremony, unaudited: [...(ceremony.unaudited ?? []), ...prepared.entries] };
}
