import type { AuditRecord } from '@signer/core';

/** A minimal, distinct audit record; identifiers and digests only, as in production. */
export function auditRecord(n: number): AuditRecord {
  return {
    auditId: `audit-${String(n).padStart(4, '0')}`,
    time: new Date(Date.UTC(2026, 5, 1, 12, 0, 0, n)).toISOString(),
    correlationId: `corr-${n}`,
    route: '/api/v1/signer/sign/dsse',
    outcome: n % 5 === 0 ? 'plan_throttled' : 'signed',
    licenseId: 'lic-1',
    subjectDigests: [`sha256:${n.toString(16).padStart(64, '0')}`],
    gates: {},
    latencyMs: n,
  };
}
