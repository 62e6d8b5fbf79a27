import { SignerError } from '../errors';
import type { Ceremony, CeremonyEvent, CeremonyPrincipal, CeremonyStatus } from './ceremony';

/**
 * The pure rules of dual control: each step is `(ceremony, principal, now) → next + events` or a
 * refusal. The service runs them inside a compare-and-set loop, so a step is re-judged against
 * whatever another replica committed in between.
 */
export interface CeremonyTransition {
  next: Ceremony;
  events: CeremonyEvent[];
}

/**
 * One principal = one OpTok `sub` within one tenant. Different clients (or tokens) of the same
 * subject are the same principal: a person cannot approve their own ceremony from another client.
 */
export function samePrincipal(a: CeremonyPrincipal, b: CeremonyPrincipal): boolean {
  return a.sub === b.sub && (a.tenant ?? '') === (b.tenant ?? '');
}

/** `pending` and `approved` still take steps; every other status is final. */
export function isOpen(status: CeremonyStatus): boolean {
  return status === 'pending' || status === 'approved';
}

function step(ceremony: Ceremony, changes: Partial<Ceremony>): Ceremony {
  return { ...ceremony, ...changes, revision: ceremony.revision + 1 };
}

/** The `expired` transition when an open ceremony has reached its expiry at `now`. */
export function expiry(ceremony: Ceremony, now: Date): CeremonyTransition | undefined {
  if (!isOpen(ceremony.status) || now.getTime() < Date.parse(ceremony.expiresAt)) return undefined;
  return { next: step(ceremony, { status: 'expired', decidedAt: now.toISOString() }), events: ['expired'] };
}

function assertOpen(ceremony: Ceremony, what: string): void {
  if (ceremony.status === 'expired')
    throw new SignerError('ceremony_expired', `ceremony ${ceremony.id} expired at ${ceremony.expiresAt}`);
  if (!isOpen(ceremony.status))
    throw new SignerError(
      'ceremony_state_conflict',
      `${what}: expected a pending or approved ceremony, got ${ceremony.status}`,
    );
}

/**
 * An approval or a rejection. The initiator may not vote, each principal votes once, and with an
 * allow-list only its members vote. Reaching the threshold makes the ceremony `approved` (event
 * `threshold_reached`, once); one rejection vetoes it (`rejected`, final) — until it is executed.
 */
export function vote(
  ceremony: Ceremony,
  principal: CeremonyPrincipal,
  now: Date,
  choice: { approve: true } | { approve: false; reason: string },
  approvers?: readonly string[],
): CeremonyTransition {
  const what = choice.approve ? 'approve' : 'reject';
  assertOpen(ceremony, what);
  if (samePrincipal(ceremony.initiator, principal))
    throw new SignerError('ceremony_self_approval', `${what}: the initiator ${principal.sub} may not vote`);
  if (approvers !== undefined && !approvers.includes(principal.sub))
    throw new SignerError(
      'insufficient_scope',
      `${what}: expected one of ceremonies.approvers, got ${principal.sub}`,
    );
  if ([...ceremony.approvals, ...ceremony.rejections].some((v) => samePrincipal(v.principal, principal)))
    throw new SignerError('ceremony_duplicate_vote', `${what}: ${principal.sub} has already voted`);
  const at = now.toISOString();
  if (!choice.approve) {
    const rejections = [...ceremony.rejections, { principal, at, reason: choice.reason }];
    return { next: step(ceremony, { rejections, status: 'rejected', decidedAt: at }), events: ['rejected'] };
  }
  const approvals = [...ceremony.approvals, { principal, at }];
  const reached = ceremony.status === 'pending' && approvals.length >= ceremony.threshold;
  return {
    next: step(ceremony, { approvals, ...(reached ? { status: 'approved' as const } : {}) }),
    events: reached ? ['approved', 'threshold_reached'] : ['approved'],
  };
}

/**
 * Claims the execution: `approved → executed`, by the initiator or any caller allowed to vote
 * (the threshold already carries the dual control). Only one claim can win the compare-and-set.
 */
export function claimExecution(
  ceremony: Ceremony,
  principal: CeremonyPrincipal,
  now: Date,
): CeremonyTransition {
  if (ceremony.status === 'pending')
    throw new SignerError(
      'ceremony_threshold_not_met',
      `execute: expected ${ceremony.threshold} approval(s), got ${ceremony.approvals.length}`,
    );
  assertOpen(ceremony, 'execute');
  return {
    next: step(ceremony, { status: 'executed', executedBy: principal, decidedAt: now.toISOString() }),
    events: ['executed'],
  };
}

/** Undoes a claim whose operation the administrator refused: the ceremony is `approved` again. */
export function releaseExecution(ceremony: Ceremony): Ceremony {
  const { executedBy: _executedBy, decidedAt: _decidedAt, ...rest } = ceremony;
  return { ...rest, status: 'approved', revision: ceremony.revision + 1 };
}

/** The initiator withdraws an open ceremony. */
export function cancel(ceremony: Ceremony, principal: CeremonyPrincipal, now: Date): CeremonyTransition {
  assertOpen(ceremony, 'cancel');
  if (!samePrincipal(ceremony.initiator, principal))
    throw new SignerError('insufficient_scope', `cancel: expected the initiator, got ${principal.sub}`);
  return {
    next: step(ceremony, { status: 'cancelled', decidedAt: now.toISOString() }),
    events: ['cancelled'],
  };
}
