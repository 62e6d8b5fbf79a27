import type { AuditRecord } from '../audit/audit-record';
import type { SignerErrorCode } from '../errors';

export type GateName =
  | 'body'
  | 'optok'
  | 'binding'
  | 'scope'
  | 'idempotency'
  | 'poe'
  | 'release'
  | 'predicate'
  | 'size'
  | 'quota'
  | 'sign'
  | 'audit';

/**
 * Receives timings and outcomes for metrics and traces. Contract: must not throw and must not
 * block; it sees no secrets.
 */
export interface PipelineObserver {
  gate(gate: GateName, seconds: number, verdict: 'pass' | SignerErrorCode): void;
  outcome(outcome: AuditRecord['outcome'], mode: string, seconds: number): void;
  /**
   * Optional: runs one gate inside the observer's scope, so a tracer can make the gate the active
   * span and upstream calls made by the gate nest under it. Must call `run` exactly once and
   * settle as it settles (same value, same error).
   */
  runGate?<T>(gate: GateName, run: () => Promise<T>): Promise<T>;
  /** Optional: the decision's final audit record (secret-free by contract), once it is decided. */
  decided?(record: Readonly<AuditRecord>): void;
}

export const noopObserver: PipelineObserver = { gate: () => undefined, outcome: () => undefined };
