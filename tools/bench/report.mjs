// The bench's printed table; the same figures, and more, are in tmp/bench/latest.json.

/** Load generator's share of its core above which floor (a) may measure the generator, not the server. */
export const GENERATOR_BOUND = 0.9;
/** Spread of floor (b)'s CPU per op between rounds above which the host's speed is called uneven. */
export const HOST_SLOWDOWN = 1.15;

const int = (value) => Math.round(value).toLocaleString('en-US');
const ms = (value) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;
const pct = (value) => `${Math.round(value * 100)} %`;

const share = (value) => (value === undefined ? '—' : pct(value));

/** Left-aligned columns (the last one free), the header row first. */
function columns(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : String(cell).padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}

/** What each variant's counters show, in one line. */
const COUNTERS = {
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
    `in Redis: ${v.switched}; its redis-server took ${share(v.signer.upstreamCpu?.['redis-server'])} of the load core`,
  keyless: (v) =>
    `Fulcio certificate requests: ${v.signer.upstream.total.fulcioCalls} in the whole run, ` +
    `${v.signer.upstream.window.fulcioCalls} in the window (the certificate is reused)`,
  'aws-kms': (v) =>
    `KMS requests: ${int(v.signer.upstream.window.kmsSignCalls)} Sign in the window for ${int(v.signer.ok2xx)} 200s, ` +
    `${int(v.signer.upstream.total.kmsCalls)} in the run, ${v.signer.upstream.total.kmsErrors} failed; the fake took ` +
    `${share(v.signer.upstreamCpu?.fakes)} of the load core (${(v.signer.upstreamCpuMsPerRequest?.fakes ?? 0).toFixed(3)} ms per request)`,
  'cached-verdict': (v) =>
    `registry requests: ${v.signer.upstream.window.registryRequests} in the window, ` +
    `${v.signer.upstream.total.registryRequests} in the run (the first verdict); release cache hits in the window: ` +
    `${int(v.signer.window.cacheHits.release)} for ${int(v.signer.window.requests)} decisions`,
};

function variantLines(r) {
  if (r.variants.length === 0) return [];
  const header = [
    'variant',
    'round',
    'bundles/s',
    'p50 / p99',
    'CPU/req',
    'ratio to base',
    'CPU ratio',
    'target',
  ];
  const rows = r.variants.map((v) =>
    v.error !== undefined
      ? [v.name, v.round, '—', '—', '—', '—', '—', 'FAILED']
      : [
          v.name,
          `${v.round}${v.disturbed ? '*' : ''}`,
          int(v.signer.rps),
          `${ms(v.signer.latencyMs.p50)} / ${ms(v.signer.latencyMs.p99)}`,
          `${v.signer.serverCpuMsPerRequest.toFixed(3)} ms`,
          `${v.ratio.toFixed(3)} (${int(v.signer.rps)} / ${int(v.base.rps)})`,
          v.cpuRatio.toFixed(3),
          v.target === undefined ? (v.verdict === 'FAILED' ? 'FAILED' : '—') : `≥ ${v.target}: ${v.verdict}`,
        ],
  );
  return [
    '',
    '  variant runs: the signer again with one thing changed, same load and window, in the round shown, against that',
    "  round's base signer run: ratio = variant / base bundles/s (the target's figure); CPU ratio = base / variant CPU per" +
      ` request${r.variants.some((v) => v.disturbed) ? '; * disturbed' : ''}:`,
    '',
    ...columns([header, ...rows]).map((line) => `    ${line}`),
    '',
    ...r.variants.map((v) =>
      v.error !== undefined
        ? `    ${v.name}: FAILED — ${v.error}`
        : `    ${v.name}: ${COUNTERS[v.name](v)}` +
          (v.checks.some((c) => !c.ok)
            ? `; NOT ${v.checks
                .filter((c) => !c.ok)
                .map((c) => c.what)
                .join(', ')}`
            : ''),
    ),
  ];
}

function table(rows) {
  const width = Math.max(...rows.map(([label]) => label.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  return rows.map(
    ([label, value, note]) => `  ${label.padEnd(width)}  ${value.padStart(valueWidth)}  ${note}`,
  );
}

export function printReport(r) {
  const { signer, floorA, floorB, audit = signer.audit } = r;
  const [b, bSerial] = floorB;
  const threads = signer.serverThreadsMsPerRequest;
  const onMain = threads.main.user + threads.main.system;
  const rows = [
    ['signer: signed bundles/s', int(signer.rps), `${int(signer.ok2xx)} × 200 in ${signer.seconds} s`],
    [
      'signer: latency p50 / p99',
      `${ms(signer.latencyMs.p50)} / ${ms(signer.latencyMs.p99)}`,
      `max ${ms(signer.latencyMs.max)}`,
    ],
    [
      'signer: CPU per request',
      `${signer.serverCpuMsPerRequest.toFixed(3)} ms`,
      `${onMain.toFixed(3)} ms on the JS thread; service core busy ${pct(signer.serverCpu)}`,
    ],
    [
      'floor a: no-op Nest+Fastify req/s',
      int(floorA.rps),
      `p50 ${ms(floorA.latencyMs.p50)}; ${floorA.serverCpuMsPerRequest.toFixed(3)} ms CPU per request`,
    ],
    [
      'floor b: DPoP verify + ES256 sign ops/s',
      int(b.opsPerSecond),
      `${b.lanes} in flight (${int(bSerial.opsPerSecond)} one at a time); ${(b.cpuUsPerOp / 1000).toFixed(3)} ms CPU per op`,
    ],
    ['combined floor 1/(1/a + 1/b)', int(r.combinedFloorRps), ''],
    [
      'ratio signer / combined floor',
      r.ratio.toFixed(3),
      `target ≥ ${r.target}: ${r.verdict}${r.disturbed ? ' (disturbed run, see below)' : ''}`,
    ],
  ];
  const foreign = [signer.foreignCpu, floorA.foreignCpu, b.foreignCpu];
  const pinning = r.settings.pinned ? 'service on CPU 0, load generator on CPU 1' : 'not pinned';
  const lines = [
    '',
    `Stella Ops Signer bench — ${r.date}`,
    `  ${r.machine.cpus} × ${r.machine.model}, Node ${r.machine.node}; ${r.settings.connections} connections, ` +
      `${r.settings.seconds} s per run; ${pinning}`,
    `  source: ${r.source.commit.slice(0, 12)}${r.source.dirty ? ' + uncommitted changes' : ''}`,
    '',
    ...table(rows),
    '',
    `  audit trail (${r.machine.auditFs}, one fdatasync per batch): ${int(audit.records ?? 0)} records, hash chain ` +
      `${audit.problems.length === 0 ? 'verified' : 'BROKEN'}; ${int(audit.acknowledged)} 200s received, each with its ` +
      `signed record; ${audit.unacknowledged} more signed while in flight at a run's end`,
    `  verified-token cache over the signer window: ${int(signer.window.tokenCache.hits)} hits, ` +
      `${int(signer.window.tokenCache.notFromCache)} decisions not served from it (signer_cache_hits_total{cache="optok"}; ` +
      'the service counts no misses: decisions − hits)',
    `  load generator: ${pct(signer.generatorCpu)} of its core in the signer run, ${pct(floorA.generatorCpu)} in the ` +
      `no-op run; ${int(signer.proofs.poolSize)} proofs made before the window (${signer.proofs.madeInWindow} inside it)`,
    ...(r.roundRatios.length > 1
      ? [
          `  figures are each measurement's median over ${r.roundsUsed} ${r.disturbed ? '' : 'undisturbed '}round(s) ` +
            `of ${r.roundRatios.length}; ratio within each round: ` +
            r.roundRatios.map((x, i) => `${x.toFixed(3)}${r.roundsDisturbed[i] ? '*' : ''}`).join(', ') +
            (r.roundsDisturbed.some(Boolean) ? ' (* disturbed)' : ''),
        ]
      : []),
    ...(r.hostSlowdown > HOST_SLOWDOWN
      ? [
          `  the same crypto work took up to ${pct(r.hostSlowdown - 1)} more CPU in one round than in another: ` +
            'the host slowed this machine unevenly; prefer a rerun or more rounds',
        ]
      : []),
    ...(floorA.generatorCpu > GENERATOR_BOUND
      ? [
          '  floor (a) may be held back by the load generator (its core was nearly saturated): it is then understated',
        ]
      : []),
    `  other processes took ${foreign.map(pct).join(' / ')} of the service core during signer / floor a / floor b` +
      (signer.loadCoreForeignCpu === undefined
        ? ''
        : `, ${pct(signer.loadCoreForeignCpu)} / ${pct(floorA.loadCoreForeignCpu)} of the load core`) +
      (r.disturbed ? ' — the machine was busy: rerun when it is quiet' : ''),
    ...variantLines(r),
    '',
  ];
  process.stdout.write(lines.join('\n'));
}
