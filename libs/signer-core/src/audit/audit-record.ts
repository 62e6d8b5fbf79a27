import type { CeremonyEvent, CeremonyOperationKind } from '../ceremonies/ceremony';
import type { SignerErrorCode } from '../errors';
import type { BindingKind } from '../model';
import type { GateName } from '../ports/pipeline-observer';

/**
 * One audit record per decision (contract §8). Carries identifiers and digests only: never the
 * predicate body, a token, a PoE value or key material.
 */
export interface AuditRecord {
  auditId: string;
  /** RFC 3339 UTC. */
  time: string;
  correlationId: string;
  route: string;
  /**
   * `signed` (a bundle was returned), `checked` (a verification or a read answered), `ceremony`
   * (one ceremony event, described in `ceremony`), the refusal code, or `summary` (anonymous
   * refusals past the per-second budget, counted in `summary`).
   */
  outcome: 'signed' | 'checked' | 'ceremony' | 'summary' | SignerErrorCode;
  tenant?: string;
  installation?: string;
  caller?: { sub: string; clientId?: string; tokenJti?: string };
  binding?: { kind: BindingKind; thumbprint: string };
  licenseId?: string;
  plan?: string;
  predicateType?: string;
  subjectDigests?: string[];
  scannerImageDigest?: string;
  gates: Partial<Record<GateName, 'pass' | SignerErrorCode>>;
  mode?: string;
  keyId?: string;
  certificateSerial?: string;
  /** SHA-256 hex of the canonical JSON of the returned bundle. */
  bundleSha256?: string;
  latencyMs: number;
  /** For an idempotent retry: the auditId of the decision being replayed. */
  replayOf?: string;
  /**
   * On a refusal answered because this decision's allow record could not be confirmed written:
   * that record's auditId. If the record exists, it stands for a signature that was never released.
   */
  supersedes?: string;
  /**
   * For a `ceremony` record: the ceremony, its event, the operation kind and what it changes (key
   * name or trust-anchor keyId), and the approvals counted against the threshold after the event.
   * A refused step carries the ceremony's `id` only (when the path named a well-formed one).
   */
  ceremony?: {
    id: string;
    event?: CeremonyEvent;
    operation?: CeremonyOperationKind;
    target?: string;
    approvals?: number;
    threshold?: number;
  };
  /** For a `summary` record: how many anonymous refusals it stands for, by code, and their time span. */
  summary?: { refusals: number; outcomes: Partial<Record<SignerErrorCode, number>>; until: string };
}

/** A record as stored: chained to its predecessor so that tampering is detectable. */
export interface ChainedAuditRecord extends AuditRecord {
  prevHash: string;
  hash: string;
}
