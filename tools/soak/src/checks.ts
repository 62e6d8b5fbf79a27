import { canonicalBytes } from '@signer/core';
import { auditIdRow, auditRows, summaryRow } from './audit-checks';
import { groupBy, row, type CheckInput, type CheckRow } from './check-input';
import { answerOf, CONTRACT_CODES, judge, type Verdict } from './judge';
import type { Exchange, RequestKind } from './ledger';
import type { FaultWindow } from './phases';
import { LEASE_SECONDS, QUOTA_LIMITS } from './topology';

export type { CheckInput, CheckRow, ReplicaFigures } from './check-input';

/** Recovery per fault: from the moment it was removed to the first 200 answered by each replica. */
export function recoveryMs(window: FaultWindow, exchanges: Exchange[], replicas: string[]): number {
  let worst = 0;
  for (const replica of replicas) {
    const first = exchanges
      .filter((e) => e.replica === replica && e.status === 200 && e.start >= window.clearAt)
      .reduce((best, e) => Math.min(best, e.end), Number.POSITIVE_INFINITY);
    worst = Math.max(worst, first - window.clearAt);
  }
  return worst;
}

function answerRows(input: CheckInput): CheckRow[] {
  const byOp = groupBy(input.exchanges, (e) => e.op);
  const verdicts = input.exchanges.map((e) => ({
    e,
    verdict: judge(e, { windows: input.windows, recoveryBoundMs: input.recoveryBoundMs, byOp }),
  }));
  const failing = (rule: string) =>
    verdicts.filter(
      (v): v is { e: Exchange; verdict: Extract<Verdict, { ok: false }> } =>
        !v.verdict.ok && v.verdict.rule === rule,
    );
  const sample = (items: Array<{ verdict: Extract<Verdict, { ok: false }> }>) =>
    [
      ...new Set(
        items.map(
          (item) => `${item.verdict.window ? `${item.verdict.window.name}: ` : ''}${item.verdict.reason}`,
        ),
      ),
    ]
      .slice(0, 4)
      .join('; ');
  const [contract, fault, steady] = ['contract', 'fault', 'steady'].map(failing);
  const faultExchanges = input.exchanges.filter((e) =>
    input.windows.some((w) => e.start >= w.start && e.start < w.clearAt),
  );
  const recoveries = input.windows.map((w) => recoveryMs(w, input.exchanges, replicasOf(input)));
  const worst = Math.max(0, ...recoveries);
  return [
    row(
      `no answer outside the contract (${Object.keys(CONTRACT_CODES).length - 1} codes, problem+json, correlation id; no internal_error)`,
      '0 exchanges',
      `${contract.length} of ${input.exchanges.length}${contract.length ? `: ${sample(contract)}` : ''}`,
      contract.length === 0,
    ),
    row(
      'during each fault only 503 upstream_unavailable or a 200 the contract allows (cache, other upstream)',
      '0 exchanges',
      `${fault.length} of ${faultExchanges.length}${fault.length ? `: ${sample(fault)}` : ''}`,
      fault.length === 0 && faultExchanges.length > 0,
    ),
    row(
      'outside faults every request gets its own answer (no 503)',
      '0 exchanges',
      `${steady.length}${steady.length ? `: ${sample(steady)}` : ''}`,
      steady.length === 0,
    ),
    row(
      'every replica answers 200 again within the bound after each fault',
      `≤ ${(input.recoveryBoundMs / 1000).toFixed(1)} s`,
      `worst ${Number.isFinite(worst) ? `${(worst / 1000).toFixed(2)} s` : 'never'} over ${input.windows.length} faults`,
      input.windows.length > 0 && worst <= input.recoveryBoundMs,
    ),
    ...idempotencyRows(input, byOp),
  ];
}

function idempotencyRows(input: CheckInput, byOp: Map<number, Exchange[]>): CheckRow[] {
  const pairs = (kind: RequestKind) =>
    [...byOp.values()]
      .map((list) => [
        list.find((e) => e.kind === kind && e.step === 0 && !e.challenged),
        list.find((e) => e.step === 1 && !e.challenged),
      ])
      .filter(
        (pair): pair is [Exchange, Exchange] =>
          pair[0] !== undefined && pair[1] !== undefined && pair[0].status === 200,
      );
  // Between the two sends Redis may have been restarted: its idempotency records are gone
  // (documented); a master failover may lose the last ones (idempotency writes wait for no replica).
  const lostRecord = (a: Exchange, b: Exchange) =>
    input.windows.some(
      (w) =>
        (w.upstream === 'redis' || w.upstream === 'redis-shard') && w.injectAt < b.end && w.end > a.start,
    );
  const faulted = (e: Exchange) => e.status === 503 && e.code === 'upstream_unavailable';
  const same = pairs('retry-same');
  const sameBad = same.filter(([a, b]) => {
    if (b.status === 0 || faulted(b) || (b.status === 200 && lostRecord(a, b))) return false;
    return (
      b.status !== 200 ||
      b.auditId !== a.auditId ||
      !canonicalBytes(b.response?.['bundle']).equals(canonicalBytes(a.response?.['bundle']))
    );
  });
  const conflict = pairs('retry-conflict');
  const conflictBad = conflict.filter(([a, b]) => {
    if (b.status === 0 || faulted(b) || (b.status === 200 && lostRecord(a, b))) return false;
    return !(b.status === 409 && b.code === 'idempotency_conflict');
  });
  const describe = (bad: Array<[Exchange, Exchange]>) =>
    bad.length
      ? ` (${[...new Set(bad.map(([, b]) => (b.status === 200 ? '200 with another auditId or bundle' : answerOf(b))))].slice(0, 3).join('; ')})`
      : '';
  return [
    row(
      'a retry with the same Idempotency-Key and body (other replica) replays the same bundle and auditId',
      `${same.length} of ${same.length}`,
      `${same.length - sameBad.length} of ${same.length}${describe(sameBad)}`,
      same.length > 0 && sameBad.length === 0,
    ),
    row(
      'the same key with another body is 409 idempotency_conflict',
      `${conflict.length} of ${conflict.length}`,
      `${conflict.length - conflictBad.length} of ${conflict.length}${describe(conflictBad)}`,
      conflict.length > 0 && conflictBad.length === 0,
    ),
  ];
}

function quotaRows(input: CheckInput): CheckRow[] {
  const { segments } = input;
  const admitted = segments.reduce((sum, s) => sum + s.trace.added.length, 0);
  const allowed = segments.reduce((sum, s) => sum + Math.floor(s.trace.bucketAllows + 1e-6), 0);
  const maxLive = Math.max(0, ...segments.map((s) => s.trace.maxLive));
  // A signed record superseded by its request's refusal (commit acknowledgement lost) released nothing.
  const superseded = new Set(input.audit.flatMap((r) => (r.supersedes ? [r.supersedes] : [])));
  const signed = input.audit.filter(
    (r) =>
      r.licenseId === input.quotaLicenseId &&
      r.outcome === 'signed' &&
      r.replayOf === undefined &&
      !superseded.has(r.auditId),
  ).length;
  const withinBucket = segments.every((s) => s.trace.added.length <= Math.floor(s.trace.bucketAllows + 1e-6));
  const modelMatches = segments.filter((s) => s.trace.added.length === s.trace.modelAdmits).length;
  const leaseMs = LEASE_SECONDS * 1000;
  const orphans = segments.flatMap((s) =>
    s.trace.added
      .filter((lease) => !s.trace.released.has(lease.id) && lease.at + leaseMs <= (s.endedAt ?? Date.now()))
      .map((lease) => ({ lease, segment: s })),
  );
  const freed = orphans.filter(({ lease, segment }) =>
    segment.trace.attemptTimes.some((at) => at >= lease.at + leaseMs),
  ).length;
  const { qps, burst, concurrency } = QUOTA_LIMITS;
  return [
    row(
      `quota plan (qps ${qps}, burst ${burst}, concurrency ${concurrency}) never exceeded across the 3 replicas`,
      `admissions ≤ bucket, ≤ ${concurrency} slots live, audited signings ≤ admissions`,
      `${admitted} admissions ≤ ${allowed} bucket allows over ${segments.length} Redis lifetimes; max ${maxLive} live; ${signed} signed in audit`,
      withinBucket && maxLive <= concurrency && signed <= admitted && admitted > 0,
    ),
    row(
      "no concurrency slot outlived its lease (Redis's admissions = the reference model's)",
      `${segments.length} of ${segments.length} Redis lifetimes match`,
      `${modelMatches} of ${segments.length} match; ${input.leasesAfterRun} live leases after the run`,
      modelMatches === segments.length && input.leasesAfterRun === 0,
    ),
    row(
      `slot held by a SIGKILLed replica frees when its ${LEASE_SECONDS} s lease expires`,
      '≥ 1 orphaned slot, each freed',
      `${orphans.length} orphaned, ${freed} freed at expiry`,
      orphans.length > 0 && freed === orphans.length,
    ),
  ];
}

function figureRows(input: CheckInput): CheckRow[] {
  const rss = input.figures.map((f) => `${f.replica} ${f.start.rssMb}→${f.end.rssMb} MB`).join(', ');
  const fds = input.figures.map((f) => `${f.replica} ${f.start.fds}→${f.end.fds}`).join(', ');
  return [
    row(
      'RSS per replica stays bounded (start → end)',
      `growth ≤ ${input.rssGrowthMb} MB`,
      rss,
      input.figures.length > 0 &&
        input.figures.every((f) => f.end.rssMb - f.start.rssMb <= input.rssGrowthMb),
    ),
    row(
      'no file descriptor leak per replica (start → end, idle)',
      `growth ≤ ${input.fdGrowth}`,
      fds,
      input.figures.length > 0 && input.figures.every((f) => f.end.fds - f.start.fds <= input.fdGrowth),
    ),
  ];
}

function replicasOf(input: CheckInput): string[] {
  return input.replicas;
}

function coverageRow(input: CheckInput, signed: Exchange[]): CheckRow {
  const missing: string[] = [];
  for (const replica of replicasOf(input))
    if (!signed.some((e) => e.replica === replica)) missing.push(`200 from ${replica}`);
  for (const kind of ['sign-file', 'sign-aws', 'sign-keyless', 'sign-quota', 'large-idempotent'] as const)
    if (!signed.some((e) => e.kind === kind)) missing.push(`200 for ${kind}`);
  for (const tenant of input.tenants)
    if (!signed.some((e) => e.tenant === tenant)) missing.push(`200 for ${tenant}`);
  const hostile = [
    'bad-token',
    'wrong-tenant',
    'bad-dpop',
    'oversized',
    'bad-json',
    'bad-token-large',
    'huge-path',
    'wrong-method',
  ] as const;
  for (const kind of hostile)
    if (!input.exchanges.some((e) => e.kind === kind && e.status >= 400 && e.status < 500))
      missing.push(`refusal of ${kind}`);
  const throttled = (kind: RequestKind) =>
    input.exchanges.some((e) => e.kind === kind && e.code === 'plan_throttled');
  if (!throttled('sign-quota')) missing.push('a 429 for the quota tenant');
  if (!throttled('large-idempotent')) missing.push("a 429 for the bulk tenant's idempotency bytes");
  return row(
    'traffic covered every replica, key kind, tenant and hostile kind',
    'all present',
    missing.length
      ? `missing: ${missing.join(', ')}`
      : `${signed.length} 200s of ${input.exchanges.length} exchanges`,
    missing.length === 0,
  );
}

/** Readiness floods: `/readyz` is anyone's, so it answers 200 or 503 with a status, and nothing else. */
function readinessRow(input: CheckInput): CheckRow {
  const options = { windows: input.windows, recoveryBoundMs: input.recoveryBoundMs, byOp: new Map() };
  const failed = input.readiness
    .map((e) => judge(e, options))
    .filter((v): v is Extract<Verdict, { ok: false }> => !v.ok);
  const counts = (status: number) => input.readiness.filter((e) => e.status === status).length;
  return row(
    'readiness floods: every GET /readyz answers 200 or 503 with a status',
    `${input.readiness.length} of ${input.readiness.length}`,
    `${input.readiness.length - failed.length} (${counts(200)} × 200, ${counts(503)} × 503)` +
      (failed.length
        ? `; ${failed.length} not: ${[...new Set(failed.map((v) => v.reason))].slice(0, 3).join('; ')}`
        : ''),
    input.readiness.length > 0 && failed.length === 0,
  );
}

/** Every row of issue #8's list, in the order the issue gives them, then issue #14's hostile rows. */
export function runChecks(input: CheckInput): CheckRow[] {
  const signed = input.exchanges.filter((e) => e.status === 200);
  return [
    ...auditRows(input, signed),
    auditIdRow(input),
    summaryRow(input),
    ...answerRows(input),
    ...quotaRows(input),
    ...figureRows(input),
    readinessRow(input),
    coverageRow(input, signed),
  ];
}
