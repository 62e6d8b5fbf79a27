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
  outcome(outcome: 'signed' | 'checked' | SignerErrorCode, mode: string, seconds: number): void;
}

export const noopObserver: PipelineObserver = { gate: () => undefined, outcome: () => undefined };
