import { SignerError } from '../errors';
import { CEREMONY_OPERATION_KINDS, type CeremonyOperationKind } from './ceremony';

/** How many approvals one operation kind needs, and (optionally) its own expiry. */
export interface CeremonyOperationPolicy {
  approvals: number;
  expirySeconds?: number;
}

/**
 * Dual control (config `ceremonies`): the approvals (M) each operation needs, how long a ceremony
 * may collect them, and optionally the N principals (OpTok `sub`) who alone may vote.
 */
export interface CeremonyPolicy {
  expirySeconds: number;
  /** When set, only these subs may approve or reject, and every threshold must be ≤ its length. */
  approvers?: readonly string[];
  operations: Readonly<Record<CeremonyOperationKind, CeremonyOperationPolicy>>;
  /**
   * Open ceremonies one initiator may hold at once; a create past it is `429 plan_throttled`
   * (`limit` `ceremonies`), so one principal cannot fill the ceremony store for every operator.
   */
  maxOpenPerInitiator: number;
}

export const DEFAULT_CEREMONY_EXPIRY_SECONDS = 86_400;
/** Far above any real backlog of one operator, far below the 10,000 a memory/file store holds. */
export const DEFAULT_CEREMONY_MAX_OPEN_PER_INITIATOR = 20;

/**
 * "2-of-3" for every change to signing keys or trust anchors — registering a key included: a
 * registered `pkcs11:` reference makes every replica load the module it names, and a `file:`
 * reference read a file, before the key can ever sign.
 */
export const DEFAULT_CEREMONY_APPROVALS: Readonly<Record<CeremonyOperationKind, number>> = {
  'key.register': 2,
  'key.activate': 2,
  'key.retire': 2,
  'key.revoke': 2,
  'key.set-default': 2,
  'trust-anchor.add': 2,
  'trust-anchor.remove': 2,
};

export const DEFAULT_CEREMONY_POLICY: CeremonyPolicy = {
  expirySeconds: DEFAULT_CEREMONY_EXPIRY_SECONDS,
  maxOpenPerInitiator: DEFAULT_CEREMONY_MAX_OPEN_PER_INITIATOR,
  operations: Object.fromEntries(
    CEREMONY_OPERATION_KINDS.map((kind) => [kind, { approvals: DEFAULT_CEREMONY_APPROVALS[kind] }]),
  ) as CeremonyPolicy['operations'],
};

/**
 * A policy as configured: partial per-kind entries over the defaults. Throws `internal_error`
 * (a start-up refusal) when a threshold cannot be met by the allow-list.
 */
export function ceremonyPolicy(configured: {
  expirySeconds?: number;
  approvers?: readonly string[];
  operations?: Partial<Record<string, CeremonyOperationPolicy>>;
  maxOpenPerInitiator?: number;
}): CeremonyPolicy {
  for (const kind of Object.keys(configured.operations ?? {})) {
    if (!(CEREMONY_OPERATION_KINDS as readonly string[]).includes(kind))
      throw policyError(
        `ceremonies.operations: expected one of ${CEREMONY_OPERATION_KINDS.join(', ')}, got ${kind}`,
      );
  }
  const operations = Object.fromEntries(
    CEREMONY_OPERATION_KINDS.map((kind) => [
      kind,
      configured.operations?.[kind] ?? DEFAULT_CEREMONY_POLICY.operations[kind],
    ]),
  ) as CeremonyPolicy['operations'];
  const policy: CeremonyPolicy = {
    expirySeconds: configured.expirySeconds ?? DEFAULT_CEREMONY_EXPIRY_SECONDS,
    maxOpenPerInitiator: configured.maxOpenPerInitiator ?? DEFAULT_CEREMONY_MAX_OPEN_PER_INITIATOR,
    operations,
    ...(configured.approvers === undefined ? {} : { approvers: [...new Set(configured.approvers)] }),
  };
  assertCeremonyPolicy(policy);
  return policy;
}

/** Every threshold ≥ 1 and, with an allow-list of N approvers, ≤ N; the open bound ≥ 1. */
export function assertCeremonyPolicy(policy: CeremonyPolicy): void {
  const max = policy.maxOpenPerInitiator;
  if (!Number.isInteger(max) || max < 1)
    throw policyError(`ceremonies.maxOpenPerInitiator: expected an integer ≥ 1, got ${max}`);
  const n = policy.approvers?.length;
  for (const kind of CEREMONY_OPERATION_KINDS) {
    const { approvals } = policy.operations[kind];
    if (!Number.isInteger(approvals) || approvals < 1)
      throw policyError(`ceremonies.operations.${kind}.approvals: expected an integer ≥ 1, got ${approvals}`);
    if (n !== undefined && approvals > n)
      throw policyError(
        `ceremonies.operations.${kind}.approvals: expected at most ${n} (the number of ceremonies.approvers), got ${approvals}`,
      );
  }
}

function policyError(message: string): SignerError {
  return new SignerError('internal_error', message);
}
