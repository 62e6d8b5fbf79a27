import { randomUUID } from 'node:crypto';
import { newAuditId } from '../audit/audit-id';
import { SignerError } from '../errors';
import type { DecisionLog } from '../pipeline/decision-log';
import type { DecisionTrail } from '../pipeline/decision-trail';
import type { AuditLookup } from '../ports/audit-lookup';
import type { AuditSink } from '../ports/audit-sink';
import type { Clock } from '../ports/clock';
import type {
  Ceremony,
  CeremonyAuditEntry,
  CeremonyEvent,
  CeremonyPrincipal,
  CeremonyStatus,
  CeremonyStore,
  ManagedStateAdministrator,
} from './ceremony';
import { parseCeremonyOperation, parseVoteReason } from './ceremony-operation';
import { CeremonyOutbox } from './ceremony-outbox';
import { CeremonyRecorder, withRecords, type CeremonyActor, type PreparedRecords } from './ceremony-records';
import type { CeremonyPolicy } from './ceremony-policy';
import {
  cancel,
  claimExecution,
  expiry,
  releaseExecution,
  samePrincipal,
  vote,
  type CeremonyTransition,
} from './ceremony-rules';

/** Compare-and-set rounds one step may take against concurrent changes before answering 503. */
export const DEFAULT_CEREMONY_CAS_ATTEMPTS = 16;
export const MAX_CEREMONY_LIST_LIMIT = 100;
/** `Retry-After` of a create refused for too many open ceremonies: one is decided or expires. */
export const CEREMONY_LIMIT_RETRY_AFTER_SECONDS = 60;

export interface CeremonyServiceOptions {
  store: CeremonyStore;
  administrator: ManagedStateAdministrator;
  policy: CeremonyPolicy;
  decisions: DecisionLog;
  /** The trail the decisions are written to: the outbox writes earlier steps' records to it. */
  audit: AuditSink;
  /** The same trail, asked whether a record whose write had an unknown outcome is there. */
  lookup: AuditLookup;
  clock: Clock;
  maxAttempts?: number;
  /** See DEFAULT_CEREMONY_AUDIT_LEASE_SECONDS. */
  auditLeaseSeconds?: number;
}

type Committed =
  { next: Ceremony; events: CeremonyEvent[]; prepared?: PreparedRecords } | { replay: Ceremony };

/**
 * Dual control over changes to the managed state (issue 17). Each step runs against the stored
 * ceremony inside a compare-and-set loop (a conflict re-reads and re-judges, so concurrent
 * approvals on two replicas both count), and answers only once every event it caused is a durable
 * record in the audit trail (outcome `ceremony`; a step with two events writes two).
 *
 * Audit outbox: a step's event records are committed with its change (`unaudited`), written after
 * the commit, then cleared. Every step first writes what earlier steps of the ceremony left
 * unwritten (a trail outage after their commit) and, if the trail still refuses, answers 503
 * without changing anything; a step whose own records fail answers 503 too, but its change stands
 * and its records are written by the next step (a retry of it is then answered 200, see
 * {@link replayed}). Callers are authenticated and their scope checked before a step is called
 * ({@link CeremonyEndpoints}).
 */
export class CeremonyService {
  private readonly maxAttempts: number;
  private readonly outbox: CeremonyOutbox;
  private readonly records: CeremonyRecorder;

  constructor(private readonly options: CeremonyServiceOptions) {
    this.maxAttempts = options.maxAttempts ?? DEFAULT_CEREMONY_CAS_ATTEMPTS;
    this.outbox = new CeremonyOutbox({
      store: options.store,
      audit: options.audit,
      lookup: options.lookup,
      clock: options.clock,
      maxAttempts: this.maxAttempts,
      leaseSeconds: options.auditLeaseSeconds,
    });
    this.records = new CeremonyRecorder(options.decisions, this.outbox);
  }

  get policy(): CeremonyPolicy {
    return this.options.policy;
  }

  async create(trail: DecisionTrail, initiator: CeremonyPrincipal, body: unknown): Promise<Ceremony> {
    const operation = await trail.gate('body', () => parseCeremonyOperation(body));
    const { policy, clock, store } = this.options;
    const rule = policy.operations[operation.kind];
    const now = clock.now();
    await trail.gate('quota', () => this.assertBelowOpenLimit(initiator, now));
    const ceremony: Ceremony = {
      id: newAuditId(now),
      operation,
      status: 'pending',
      initiator,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + (rule.expirySeconds ?? policy.expirySeconds) * 1000).toISOString(),
      threshold: rule.approvals,
      approvals: [],
      rejections: [],
      revision: 1,
    };
    trail.record.ceremony = { id: ceremony.id };
    const actor: CeremonyActor = { step: 'create', principal: initiator, owner: randomUUID() };
    const prepared = this.records.prepare(trail, ceremony, ['initiated'], actor);
    if (!(await store.compareAndSet(0, { ...ceremony, unaudited: prepared.entries })))
      throw new SignerError('internal_error', `ceremony id ${ceremony.id} already taken`);
    return answer((await this.records.deliver(ceremony.id, prepared, actor.owner)) ?? ceremony);
  }

  /**
   * Bounds the open ceremonies of one initiator (`policy.maxOpenPerInitiator`), so one principal
   * with the initiate scope cannot fill the store and block every other operator. A resource
   * bound, not a security invariant: the count and the insert are not one atomic step (no lock
   * across replicas), so creates racing each other — two replicas at the same moment, or two
   * requests on one — may each be admitted, one past the bound apiece.
   */
  private async assertBelowOpenLimit(initiator: CeremonyPrincipal, now: Date): Promise<void> {
    const limit = this.options.policy.maxOpenPerInitiator;
    const open = await this.options.store.countOpen(initiator, now.toISOString(), limit);
    if (open >= limit)
      throw new SignerError(
        'plan_throttled',
        `ceremony limit reached: expected at most ${limit} open ceremonies per initiator, got ${open} open`,
        { limit: 'ceremonies', retryAfterSeconds: CEREMONY_LIMIT_RETRY_AFTER_SECONDS },
      );
  }

  /** A read writes what earlier steps left unwritten too (it needs the trail for its own record). */
  async get(trail: DecisionTrail, id: string): Promise<Ceremony> {
    trail.record.ceremony = { id };
    const { ceremony } = await this.outbox.settle(await this.read(id), { owner: randomUUID() });
    await this.options.decisions.finish(trail, 'checked');
    return answer(ceremony);
  }

  async list(trail: DecisionTrail, query: { status?: CeremonyStatus; limit: number }): Promise<Ceremony[]> {
    const limit = Math.min(Math.max(1, Math.trunc(query.limit)), MAX_CEREMONY_LIST_LIMIT);
    const found = await this.options.store.list({ status: query.status, limit });
    const owner = randomUUID();
    const ceremonies: Ceremony[] = [];
    // Nobody may ever step on a ceremony whose create answered 503: listing writes its records.
    for (const ceremony of found) ceremonies.push((await this.outbox.settle(ceremony, { owner })).ceremony);
    await this.options.decisions.finish(trail, 'checked');
    return ceremonies.map(answer);
  }

  approve(trail: DecisionTrail, principal: CeremonyPrincipal, id: string): Promise<Ceremony> {
    const approvers = this.options.policy.approvers;
    return this.step(trail, id, { step: 'approve', principal, owner: randomUUID() }, (c, now) =>
      vote(c, principal, now, { approve: true }, approvers),
    );
  }

  async reject(
    trail: DecisionTrail,
    principal: CeremonyPrincipal,
    id: string,
    reason: unknown,
  ): Promise<Ceremony> {
    const text = await trail.gate('body', () => parseVoteReason(reason));
    const approvers = this.options.policy.approvers;
    return this.step(trail, id, { step: 'reject', principal, owner: randomUUID() }, (c, now) =>
      vote(c, principal, now, { approve: false, reason: text }, approvers),
    );
  }

  cancel(trail: DecisionTrail, principal: CeremonyPrincipal, id: string): Promise<Ceremony> {
    return this.step(trail, id, { step: 'cancel', principal, owner: randomUUID() }, (c, now) =>
      cancel(c, principal, now),
    );
  }

  /**
   * Claims the approved ceremony (only one executor can win), applies its operation to the managed
   * state, then stores the resulting state version with the `executed` record in the outbox. If the
   * administrator refuses (or fails), the claim is released and the ceremony is `approved` again;
   * nothing is recorded as executed.
   */
  async execute(trail: DecisionTrail, principal: CeremonyPrincipal, id: string): Promise<Ceremony> {
    trail.record.ceremony = { id };
    const actor: CeremonyActor = { step: 'execute', principal, owner: randomUUID() };
    const claimed = await this.commit(trail, id, actor, (c, now) => claimExecution(c, principal, now), {
      deferRecords: true,
    });
    if ('replay' in claimed) return claimed.replay;
    let version: number;
    try {
      version = (await this.options.administrator.apply(claimed.next.operation, id)).version;
    } catch (error) {
      await this.update(id, releaseExecution).catch(() => undefined);
      throw error;
    }
    const prepared = this.records.prepare(trail, claimed.next, claimed.events, actor);
    const executed = await this.update(id, (c) => ({
      ...c,
      resultVersion: version,
      unaudited: [...(c.unaudited ?? []), ...prepared.entries],
      revision: c.revision + 1,
    }));
    return answer((await this.records.deliver(id, prepared, actor.owner)) ?? executed);
  }

  private async step(
    trail: DecisionTrail,
    id: string,
    actor: CeremonyActor,
    rule: (ceremony: Ceremony, now: Date) => CeremonyTransition,
  ): Promise<Ceremony> {
    trail.record.ceremony = { id };
    const committed = await this.commit(trail, id, actor, rule);
    if ('replay' in committed) return committed.replay;
    return answer(
      (await this.records.deliver(id, committed.prepared as PreparedRecords, actor.owner)) ?? committed.next,
    );
  }

  /**
   * Reads, writes what earlier steps left in the outbox, judges and compare-and-sets (with this
   * step's records) until a transition commits. An open ceremony past its expiry is first committed
   * as `expired` (its own record), and the step is refused.
   */
  private async commit(
    trail: DecisionTrail,
    id: string,
    actor: CeremonyActor,
    rule: (ceremony: Ceremony, now: Date) => CeremonyTransition,
    { deferRecords = false } = {},
  ): Promise<Committed> {
    const settled: CeremonyAuditEntry[] = [];
    for (let attempt = 0; attempt < this.maxAttempts; attempt += 1) {
      const written = await this.outbox.settle(await this.read(id), actor);
      settled.push(...written.settled);
      const current = written.ceremony;
      const now = this.options.clock.now();
      const expired = expiry(current, now);
      if (expired) {
        const prepared = this.records.prepare(
          trail,
          expired.next,
          expired.events,
          { ...actor, step: 'expire' },
          true,
        );
        if (!(await this.options.store.compareAndSet(current.revision, withRecords(expired.next, prepared))))
          continue;
        await this.records.deliver(id, prepared, actor.owner);
        throw new SignerError('ceremony_expired', `ceremony ${id} expired at ${current.expiresAt}`);
      }
      let transition: CeremonyTransition;
      try {
        transition = rule(current, now);
      } catch (error) {
        const replay = await this.replayed(trail, current, settled, actor);
        if (replay) return { replay };
        throw error;
      }
      const prepared = deferRecords
        ? undefined
        : this.records.prepare(trail, transition.next, transition.events, actor);
      const next = prepared ? withRecords(transition.next, prepared) : transition.next;
      if (await this.options.store.compareAndSet(current.revision, next))
        return { next, events: transition.events, prepared };
    }
    throw new SignerError('upstream_unavailable', `ceremony ${id}: too many concurrent changes`, {
      upstream: 'state',
      retryAfterSeconds: 1,
    });
  }

  /**
   * The retry of a step that answered 503 after its change committed: if this request has just
   * written that step's records (same step, same principal), the step is done; it is answered 200
   * with the ceremony as it stands, recorded as `checked` with `replayOf` naming the step's record,
   * instead of refused (e.g. ceremony_duplicate_vote) for the change it made itself.
   */
  private async replayed(
    trail: DecisionTrail,
    current: Ceremony,
    settled: readonly CeremonyAuditEntry[],
    actor: CeremonyActor,
  ): Promise<Ceremony | undefined> {
    const own = settled.find((e) => e.step === actor.step && samePrincipal(e.principal, actor.principal));
    if (!own) return undefined;
    trail.record.replayOf = own.record.auditId;
    await this.options.decisions.finish(trail, 'checked');
    return answer(current);
  }

  /** Re-reads and re-applies `change` until it commits (audit bookkeeping may move the revision). */
  private async update(id: string, change: (ceremony: Ceremony) => Ceremony): Promise<Ceremony> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt += 1) {
      const current = await this.read(id);
      const next = change(current);
      if (await this.options.store.compareAndSet(current.revision, next)) return next;
    }
    throw new SignerError('upstream_unavailable', `ceremony ${id}: too many concurrent changes`, {
      upstream: 'state',
      retryAfterSeconds: 1,
    });
  }

  private async read(id: string): Promise<Ceremony> {
    const ceremony = await this.options.store.get(id);
    if (!ceremony) throw new SignerError('ceremony_not_found', `no ceremony ${id}`);
    return ceremony;
  }
}

/** A ceremony as answered: the outbox is internal. */
function answer(ceremony: Ceremony): Ceremony {
  const { unaudited: _outbox, ...rest } = ceremony;
  return rest;
}
