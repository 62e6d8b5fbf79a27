// The bench's printed table (the same figures are in tmp/bench/latest.json).
const int = (value) => Math.round(value).toLocaleString('en-US');
const ms = (value) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;
/** Share of a core taken by other processes above which a run is flagged as contaminated. */
const NOISY = 0.1;
const pct = (value) => `${Math.round(value * 100)} %`;

export function printReport(r) {
  const { signer, floorA, floorB } = r;
  const [b, bSerial] = floorB;
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
      `service core busy ${pct(signer.serverCpu)}`,
    ],
    [
      'floor a: no-op Nest+Fastify req/s',
      int(floorA.rps),
      `p50 ${ms(floorA.latencyMs.p50)}, ${floorA.serverCpuMsPerRequest.toFixed(3)} ms CPU/req`,
    ],
    [
      'floor b: DPoP verify + ES256 sign ops/s',
      int(b.opsPerSecond),
      `${b.lanes} in flight; ${int(bSerial.opsPerSecond)} with 1`,
    ],
    ['combined floor 1/(1/a + 1/b)', int(r.combinedFloorRps), ''],
    ['ratio signer / combined', r.ratio.toFixed(3), `target ${r.target} → ${r.verdict}`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  const lines = rows.map(
    ([label, value, note]) => `  ${label.padEnd(width)}  ${value.padStart(valueWidth)}  ${note}`,
  );
  const audit = signer.audit;
  process.stdout.write(
    [
      '',
      `Stella Ops Signer bench — ${r.date}`,
      `  ${r.machine.cpus} × ${r.machine.model}, Node ${r.machine.node}, ${r.settings.connections} connections, ` +
        `${r.settings.seconds} s per run, ${r.settings.pinned ? 'service on CPU 0 / load on CPU 1' : 'not pinned'}`,
      '',
      ...lines,
      '',
      `  audit trail (${r.machine.auditFs}, fdatasync per batch): ${int(audit.records ?? 0)} records, chain ` +
        `${audit.problems.length === 0 ? 'verified' : 'BROKEN'}; every received 200 has its signed record ` +
        `(${int(audit.acknowledged)}), ${audit.unacknowledged} more were in flight when a run stopped`,
      `  load generator: ${pct(signer.generatorCpu)} of its core (signer run), ${pct(floorA.generatorCpu)} (no-op run); ` +
        `proofs pre-generated: ${int(signer.proofs.poolSize)} (${signer.proofs.madeInWindow} made inside the window)`,
      `  other processes: ${pct(signer.serviceCoreForeign ?? signer.foreignCpu)} of the service core during the signer run, ` +
        `${pct(floorA.serviceCoreForeign ?? floorA.foreignCpu)} during the no-op run` +
        (Math.max(
          signer.serviceCoreForeign ?? signer.foreignCpu,
          floorA.serviceCoreForeign ?? floorA.foreignCpu,
        ) > NOISY
          ? ' — the machine was busy; rerun when it is quiet'
          : ''),
      '',
    ].join('\n'),
  );
}
