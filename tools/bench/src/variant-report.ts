// The variant runs' part of the printed report: one row per run, then what its counters show.
import { int, ms, share } from './format';
import type { MeasuredVariant, VariantSummary } from './types';
import type { VariantName } from './variants';

/** Left-aligned columns (the last one free), the header row first. */
function columns(rows: readonly (readonly (string | number)[])[]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? String(cell) : String(cell).padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** What each variant's counters show, in one line. */
const COUNTERS: Record<VariantName, (v: MeasuredVariant) => string> = {
  'token-cache-off': (v) => {
    const off = v.signer.window.tokenCache;
    const on = v.base.tokenCache;
    return (
      `OpTok cache hits in the window: ${int(off.hits)} of ${int(off.hits + off.notFromCache)} decisions ` +
      `(base: ${int(on.hits)} of ${int(on.hits + on.notFromCache)}); with the cache the base signs ` +
      `${(v.base.rps / v.signer.rps).toFixed(2)}× as fast (base / variant)`
    );
  },
  redis: (v) =>
    `in Redis: ${v.switched}; its redis-server took ${share(v.signer.upstreamCpu?.['redis-server'])} of the load core; ` +
    redisPerRequest(v),
  'redis-postgres': (v) =>
    `${redisPerRequest(v)}; audit rows per commit: ${rowsPerCommit(v)} over the run ` +
    `(${int(v.signer.upstream.total.auditRecords ?? 0)} rows, ${int(v.signer.upstream.total.auditCommits ?? 0)} commits)`,
  keyless: (v) =>
    `Fulcio certificate requests: ${v.signer.upstream.total.fulcioCalls} in the whole run, ` +
    `${v.signer.upstream.window.fulcioCalls} in the window (the certificate is reused)`,
  'aws-kms': (v) =>
    `KMS requests: ${int(v.signer.upstream.window.kmsSignCalls ?? 0)} Sign in the window for ${int(v.signer.ok2xx)} 200s, ` +
    `${int(v.signer.upstream.total.kmsCalls ?? 0)} in the run, ${v.signer.upstream.total.kmsErrors} failed; the fake took ` +
    `${share(v.signer.upstreamCpu?.['fakes'])} of the load core (${(v.signer.upstreamCpuMsPerRequest?.['fakes'] ?? 0).toFixed(3)} ms per request)`,
  pkcs11: (v) =>
    `${int(v.signer.ok2xx)} 200s signed by SoftHSM2 inside the Signer process (CKM_ECDSA over a digest made in ` +
    `Node, 4 pooled sessions); the ratio is the PKCS#11 path against the base file:// key`,
  'cached-verdict': (v) =>
    `registry requests: ${v.signer.upstream.window.registryRequests} in the window, ` +
    `${v.signer.upstream.total.registryRequests} in the run (the first verdict); release cache hits in the window: ` +
    `${int(v.signer.window.cacheHits['release'] ?? 0)} for ${int(v.signer.window.requests)} decisions`,
};

/** Redis commands and socket reads (at most the round trips) per signed request in the window. */
function redisPerRequest(v: MeasuredVariant): string {
  const signed = Math.max(1, v.signer.window.signed);
  const { redisCommands = 0, redisReads = 0 } = v.signer.upstream.window;
  return `${(redisCommands / signed).toFixed(2)} Redis commands, ${(redisReads / signed).toFixed(2)} socket reads per signed request`;
}

function rowsPerCommit(v: MeasuredVariant): string {
  const { auditRecords = 0, auditCommits = 0 } = v.signer.upstream.total;
  return auditCommits > 0 ? (auditRecords / auditCommits).toFixed(1) : '—';
}

const HEADER = [
  'variant',
  'round',
  'bundles/s',
  'p50 / p99',
  'CPU/req',
  'ratio to base',
  'CPU ratio',
  'target',
];

function row(v: VariantSummary): (string | number)[] {
  if (v.error !== undefined) return [v.name, v.round, '—', '—', '—', '—', '—', 'FAILED'];
  return [
    v.name,
    `${v.round}${v.disturbed ? '*' : ''}`,
    int(v.signer.rps),
    `${ms(v.signer.latencyMs.p50)} / ${ms(v.signer.latencyMs.p99)}`,
    `${v.signer.serverCpuMsPerRequest.toFixed(3)} ms`,
    `${v.ratio.toFixed(3)} (${int(v.signer.rps)} / ${int(v.base.rps)})`,
    v.cpuRatio.toFixed(3),
    v.target === undefined ? (v.verdict === 'FAILED' ? 'FAILED' : '—') : `≥ ${v.target}: ${v.verdict}`,
  ];
}

function countersLine(v: VariantSummary): string {
  if (v.error !== undefined) return `    ${v.name}: FAILED — ${v.error}`;
  const failed = v.checks.filter((c) => !c.ok).map((c) => c.what);
  return `    ${v.name}: ${COUNTERS[v.name](v)}${failed.length > 0 ? `; NOT ${failed.join(', ')}` : ''}`;
}

export function variantLines(variants: readonly VariantSummary[]): string[] {
  if (variants.length === 0) return [];
  const disturbed = variants.some((v) => v.error === undefined && v.disturbed);
  return [
    '',
    '  variant runs: the signer again with one thing changed, same load and window, in the round shown, against that',
    "  round's base signer run: ratio = variant / base bundles/s (the target's figure); CPU ratio = base / variant CPU per" +
      ` request${disturbed ? '; * disturbed' : ''}:`,
    '',
    ...columns([HEADER, ...variants.map(row)]).map((line) => `    ${line}`),
    '',
    ...variants.map(countersLine),
  ];
}
