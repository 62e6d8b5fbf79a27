// The bench's printed table; the same figures, and more, are in tmp/bench/latest.json.
import { int, ms, pct } from './format';
import type { Results } from './types';
import { scaleLines } from './scale-model';
import { variantLines } from './variant-report';

/** Load generator's share of its core above which floor (a) may measure the generator, not the server. */
export const GENERATOR_BOUND = 0.9;
/** Spread of floor (b)'s CPU per op between rounds above which the host's speed is called uneven. */
export const HOST_SLOWDOWN = 1.15;

/** Label, right-aligned value, note. */
function table(rows: [string, string, string][]): string[] {
  const width = Math.max(...rows.map(([label]) => label.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  return rows.map(
    ([label, value, note]) => `  ${label.padEnd(width)}  ${value.padStart(valueWidth)}  ${note}`,
  );
}

function headline(r: Results): [string, string, string][] {
  const { signer, floorA } = r;
  const [b, bSerial] = r.floorB;
  const { main } = signer.serverThreadsMsPerRequest;
  const floorB =
    b === undefined
      ? []
      : [
          [
            'floor b: DPoP verify + ES256 sign ops/s',
            int(b.opsPerSecond),
            `${b.lanes} in flight (${int(bSerial?.opsPerSecond ?? 0)} one at a time); ${(b.cpuUsPerOp / 1000).toFixed(3)} ms CPU per op`,
          ] as [string, string, string],
        ];
  return [
    ['signer: signed bundles/s', int(signer.rps), `${int(signer.ok2xx)} × 200 in ${signer.seconds} s`],
    [
      'signer: latency p50 / p99',
      `${ms(signer.latencyMs.p50)} / ${ms(signer.latencyMs.p99)}`,
      `max ${ms(signer.latencyMs.max)}`,
    ],
    [
      'signer: CPU per request',
      `${signer.serverCpuMsPerRequest.toFixed(3)} ms`,
      `${(main.user + main.system).toFixed(3)} ms on the JS thread; service core busy ${pct(signer.serverCpu)}`,
    ],
    [
      'floor a: no-op Nest+Fastify req/s',
      int(floorA.rps),
      `p50 ${ms(floorA.latencyMs.p50)}; ${floorA.serverCpuMsPerRequest.toFixed(3)} ms CPU per request`,
    ],
    ...floorB,
    ['combined floor 1/(1/a + 1/b)', int(r.combinedFloorRps), ''],
    [
      'ratio signer / combined floor',
      r.ratio.toFixed(3),
      `target ≥ ${r.target}: ${r.verdict}${r.disturbed ? ' (disturbed run, see below)' : ''}`,
    ],
  ];
}

/** What the run's conditions say about its figures: rounds, an uneven host, a saturated generator. */
function conditions(r: Results): string[] {
  const { signer, floorA } = r;
  const foreign = [signer.foreignCpu, floorA.foreignCpu, r.floorB[0]?.foreignCpu ?? 0];
  return [
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
        : `, ${pct(signer.loadCoreForeignCpu)} / ${pct(floorA.loadCoreForeignCpu ?? 0)} of the load core`) +
      (r.disturbed ? ' — the machine was busy: rerun when it is quiet' : ''),
  ];
}

/** The report printed at the end of a run. */
export function formatReport(r: Results): string {
  const { signer, floorA } = r;
  const { audit } = signer;
  const pinning = r.settings.pinned ? 'service on CPU 0, load generator on CPU 1' : 'not pinned';
  const lines = [
    '',
    `Stella Ops Signer bench — ${r.date}`,
    `  ${r.machine.cpus} × ${r.machine.model}, Node ${r.machine.node}; ${r.settings.connections} connections, ` +
      `${r.settings.seconds} s per run; ${pinning}`,
    `  source: ${r.source.commit.slice(0, 12)}${r.source.dirty ? ' + uncommitted changes' : ''}`,
    '',
    ...table(headline(r)),
    '',
    `  audit trail (${r.machine.auditFs}, one fdatasync per batch): ${int(audit.records ?? 0)} records, hash chain ` +
      `${audit.problems.length === 0 ? 'verified' : 'BROKEN'}; ${int(audit.acknowledged)} 200s received, each with its ` +
      `signed record; ${audit.unacknowledged} more signed while in flight at a run's end`,
    `  verified-token cache over the signer window: ${int(signer.window.tokenCache.hits)} hits, ` +
      `${int(signer.window.tokenCache.notFromCache)} decisions not served from it (signer_cache_hits_total{cache="optok"}; ` +
      'the service counts no misses: decisions − hits)',
    `  load generator: ${pct(signer.generatorCpu)} of its core in the signer run, ${pct(floorA.generatorCpu)} in the ` +
      `no-op run; ${int(signer.proofs.poolSize)} proofs made before the window (${signer.proofs.madeInWindow} inside it)`,
    ...conditions(r),
    ...variantLines(r.variants),
    ...scaleLines(r.variants),
    '',
  ];
  return lines.join('\n');
}
