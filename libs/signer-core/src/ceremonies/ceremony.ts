import type { AuditRecord } from '../audit/audit-record';
import type { ManagedState } from '../keys/managed-state';

/**
 * A change to the managed state that needs dual control (issue 17). `key.register` adds a key
 * as `pending` (published before it signs); the others move a key through its lifecycle, set a
 * default, or change the trusted release keys.
 */
export type CeremonyOperation =
  | {
      kind: 'key.register';
      /** Label; must be new. */
      name: string;
      /** Key reference (`file:`, `awskms:`, `gcpkms:`, `pkcs11:`); resolved when executed. */
      ref: string;
      profile?: string;
      validFrom?: string;
      validUntil?: string;
    }
  | { kind: 'key.activate'; name: string }
  | { kind: 'key.retire'; name: string }
  | { kind: 'key.revoke'; name: string; reason: string }
  | { kind: 'key.set-default'; name: string; /** absent = the installation default */ plan?: string }
  | { kind: 'trust-anchor.add'; publicKeyPem: string; label?: string }
  | { kind: 'trust-anchor.remove'; keyId: string };

export type CeremonyOperationKind = CeremonyOperation['kind'];

export const CEREMONY_OPERATION_KINDS: readonly CeremonyOperationKind[] = [
  'key.register',
  'key.activate',
  'key.retire',
  'key.revoke',
  'key.set-default',
  'trust-anchor.add',
  'trust-anchor.remove',
];

/**
 * `pending` collects votes; `approved` has reached its threshold and may be executed; the rest
 * are final.
 */
export type CeremonyStatus = 'pending' | 'approved' | 'rejected' | 'executed' | 'expired' | 'cancelled';

/** Every event is an audit record in the hash-chained trail (outcome `ceremony`). */
export type CeremonyEvent =
  'initiated' | 'approved' | 'rejected' | 'threshold_reached' | 'executed' | 'expired' | 'cancelled';

export interface CeremonyPrincipal {
  /** OpTok `sub`. */
  sub: string;
  tenant?: string;
  clientId?: string;
}

export interface CeremonyVote {
  principal: CeremonyPrincipal;
  /** RFC 3339 UTC. */
  at: string;
  reason?: string;
}

export interface Ceremony {
  /** UUIDv7. */
  id: string;
  operation: CeremonyOperation;
  status: CeremonyStatus;
  initiator: CeremonyPrincipal;
  createdAt: string;
  expiresAt: string;
  /** Approvals required (M of the N eligible approvers). */
  threshold: number;
  approvals: CeremonyVote[];
  rejections: CeremonyVote[];
  /** Set when final. */
  decidedAt?: string;
  executedBy?: CeremonyPrincipal;
  /** The managed-state version the execution produced. */
  resultVersion?: number;
  /** Increments with every stored change (compare-and-set), audit bookkeeping included. */
  revision: number;
  /**
   * The outbox: event records committed with the change that caused them and not yet known to be
   * in the audit trail (internal; never answered). See {@link CeremonyAuditEntry}.
   */
  unaudited?: CeremonyAuditEntry[];
}

/** The steps whose events a ceremony records (`expire` is found on the way of another step). */
export type CeremonyStepName = 'create' | 'approve' | 'reject' | 'execute' | 'cancel' | 'expire';

/**
 * One event record in a ceremony's outbox. Its audit id is chosen before the commit, so whoever
 * writes it writes that id; `lease` names the one writer that may append it until `until` (the
 * step that committed it, or one that took it over after the lease ran out and asked the trail
 * whether the record already exists).
 */
export interface CeremonyAuditEntry {
  record: AuditRecord;
  step: CeremonyStepName;
  principal: CeremonyPrincipal;
  lease: { owner: string; until: string };
}

/**
 * Where ceremonies live (PostgreSQL when configured, else memory/file like the managed state).
 * `compareAndSet` stores `next` only if the stored revision equals `expectedRevision` (0 = new).
 * The whole document is stored, outbox included; a store that forgets ceremonies must never forget
 * one whose outbox still holds records.
 */
export interface CeremonyStore {
  get(id: string): Promise<Ceremony | undefined>;
  /** Newest first, at most `limit`. */
  list(options: { status?: CeremonyStatus; limit: number }): Promise<Ceremony[]>;
  compareAndSet(expectedRevision: number, next: Ceremony): Promise<boolean>;
  /**
   * How many open ceremonies (`pending` or `approved`, `expiresAt` after `now`, RFC 3339) the
   * principal initiated — the same principal as `samePrincipal`: same `sub`, same `tenant`. May
   * stop counting at `atMost` (answers min(count, atMost)), so the bound check stays cheap.
   */
  countOpen(initiator: CeremonyPrincipal, now: string, atMost: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Applies an executed ceremony's operation to the managed state (implemented next to the key
 * registry: `key.register` must load the key to learn its public key and fingerprint). Throws
 * `key_state_conflict` for a transition the lifecycle forbids; returns the committed state.
 */
export interface ManagedStateAdministrator {
  apply(operation: CeremonyOperation, ceremonyId: string): Promise<ManagedState>;
}
