import type { ChainCheck, ChainedAuditRecord } from '@signer/core';
import type { Exchange } from './ledger';
import type { FaultWindow } from './phases';
import type { QuotaSegment } from './quota-watch';
import type { ProcessFigures } from './replicas';

/** One row of the check table. */
export interface CheckRow {
  check: string;
  expected: string;
  observed: string;
  pass: boolean;
}

/** RSS and descriptors of one replica process at the start and the end of its life in the run. */
export interface ReplicaFigures {
  replica: string;
  start: ProcessFigures;
  end: ProcessFigures;
}

/** What the checks read: the ledger, the fault windows, the audit trail, Redis's quota trace, /proc. */
export interface CheckInput {
  exchanges: Exchange[];
  /** The readiness floods' `GET /readyz` (kept apart: they are not signing decisions). */
  readiness: Exchange[];
  windows: FaultWindow[];
  audit: ChainedAuditRecord[];
  chain: ChainCheck;
  /** Problems found verifying each 200 (by exchange id); absent means it verified. */
  verification: Map<string, string>;
  segments: QuotaSegment[];
  /** Live quota leases in Redis once traffic stopped and every lease had time to expire. */
  leasesAfterRun: number;
  quotaLicenseId: string;
  figures: ReplicaFigures[];
  recoveryBoundMs: number;
  rssGrowthMb: number;
  fdGrowth: number;
  tenants: string[];
  replicas: string[];
}

export const row = (check: string, expected: string, observed: string, pass: boolean): CheckRow => ({
  check,
  expected,
  observed,
  pass,
});

export function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
