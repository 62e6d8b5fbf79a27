import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fetchSignerKeys } from '@signer/client';
import type { ChainedAuditRecord } from '@signer/core';
import { createAuditPool, verifyPostgresAudit } from '@signer/infra-store';
import { createCaller, createTenants, QUOTA_TENANT } from './callers';
import { runChecks, type ReplicaFigures } from './checks';
import { soakFaults } from './faults';
import { Connections } from './http-exchange';
import { Ledger } from './ledger';
import { runFault, type FaultWindow } from './phases';
import { QuotaWatch } from './quota-watch';
import type { ProcessFigures } from './replicas';
import { latencies, phaseRows, type SoakReport } from './report';
import type { SoakSettings } from './settings';
import { ANONYMOUS_RECORDS_PER_SECOND, LEASE_SECONDS, startTopology, type SoakTopology } from './topology';
import { Traffic, type Worker } from './traffic';
import { verifyAnswer } from './verify';
import { sleep } from './wait';

/** Stops traffic, closes the harness's own sockets and lets the replicas go idle before counting. */
async function idleFigures(
  topology: SoakTopology,
  connections: Connections,
): Promise<Map<string, ProcessFigures>> {
  connections.closeAll();
  await sleep(1500);
  return new Map(topology.replicas.map((replica) => [replica.name, replica.figures()]));
}

async function readAudit(
  url: string,
): Promise<{ records: ChainedAuditRecord[]; chain: Awaited<ReturnType<typeof verifyPostgresAudit>> }> {
  // The sink's pool settings: the throwaway database is force-dropped at teardown, possibly while
  // this pool's connection is still closing, and that error event must not crash the soak.
  // A long run's whole trail is read in one query: no 5 s query timeout here.
  const pool = createAuditPool({ connectionString: url, poolSize: 1, queryTimeoutMs: 600_000 });
  try {
    const { rows } = await pool.query<{ record: string }>(
      // Every chain (one per replica start) in order, after version 1's single chain, if any.
      `SELECT record FROM (SELECT '' AS chain_id, seq, record FROM signer_audit.records
         UNION ALL SELECT chain_id, seq, record FROM signer_audit.chain_records) AS r ORDER BY chain_id, seq`,
    );
    return {
      records: rows.map((row) => JSON.parse(row.record) as ChainedAuditRecord),
      chain: await verifyPostgresAudit(pool),
    };
  } finally {
    await pool.end();
  }
}

/** Every exchange (without bundles) and every audit record, one JSON line each, for a post-mortem. */
function writeLedger(file: string, ledger: Ledger, audit: ChainedAuditRecord[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const lines = [
    ...ledger.exchanges.map(({ response: _response, ...e }) => JSON.stringify({ exchange: e })),
    ...ledger.readiness.map((e) => JSON.stringify({ readiness: e })),
    ...audit.map((record) => JSON.stringify({ audit: record })),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/**
 * The soak: three replicas under mixed traffic, every fault of issue #8 in turn (repeated until
 * the run time is used), then the checks over the ledger, the PostgreSQL audit trail and Redis.
 */
export async function runSoak(settings: SoakSettings, log: (line: string) => void): Promise<SoakReport> {
  const startedAt = Date.now();
  const lifetime = settings.totalSeconds + 3600;
  log('soak: starting Redis, PostgreSQL proxy, Licensing, registry, KMS, Fulcio and three replicas');
  const topology = await startTopology(settings);
  // Interrupted (Ctrl-C, a test's deadline): stop everything this run started, then leave.
  const abort = () => void topology.close().finally(() => process.exit(130));
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  const connections = new Connections();
  const ledger = new Ledger();
  const windows: FaultWindow[] = [];
  const figures = new Map<string, { start: ProcessFigures; end?: ProcessFigures }>();
  try {
    const tenants = await createTenants(topology.licensing, settings.tenants, lifetime);
    const ordinary = tenants.filter((t) => !t.quota && !t.bulk);
    const quota = tenants.find((t) => t.quota);
    const bulk = tenants.find((t) => t.bulk);
    if (!quota || !bulk) throw new Error('no quota or bulk tenant');
    const caller = (tenant: (typeof tenants)[number]) => createCaller(topology.authority, tenant, lifetime);
    const workers: Worker[] = [
      ...(await Promise.all(
        Array.from({ length: settings.workers }, async () => ({
          callers: await Promise.all(ordinary.map(caller)),
          quota: false,
          bulk: await caller(bulk),
        })),
      )),
      ...(await Promise.all(
        Array.from({ length: settings.quotaWorkers }, async () => ({
          callers: [await caller(quota)],
          quota: true,
        })),
      )),
    ];
    const watch = new QuotaWatch((key) => topology.redisUrlFor(key), QUOTA_TENANT, quota.licenseId);
    await watch.attach();
    const traffic = new Traffic({
      ledger,
      connections,
      replicas: topology.replicas,
      scannerImageDigest: topology.scannerImageDigest,
      workers,
      thinkMs: settings.thinkMs,
      seed: 8,
    });
    const faults = soakFaults({
      settings,
      topology,
      traffic,
      ledger,
      watch,
      slotHolder: await caller(quota),
    });

    log(`soak: baseline traffic for ${settings.baselineSeconds} s`);
    traffic.start();
    await sleep(settings.baselineSeconds * 1000);
    await traffic.stop();
    for (const [name, start] of await idleFigures(topology, connections)) figures.set(name, { start });
    // A summary record the checks can see whole: 3 seconds' worth of the budget at once, alone.
    await traffic.budgetBurst(topology.replicas[0], 3 * ANONYMOUS_RECORDS_PER_SECOND);
    traffic.start();

    const recoveryWaitMs = (settings.recoveryBoundSeconds + 5) * 1000;
    let cycle = 0;
    do {
      cycle += 1;
      for (const fault of faults) {
        log(`soak: cycle ${cycle}: ${fault.name} for ${(fault.durationMs / 1000).toFixed(0)} s`);
        const window = await runFault(fault, cycle, topology.replicas, ledger, recoveryWaitMs);
        windows.push(window);
        if (fault.upstream === 'replica' && fault.victim) {
          // A new process: its own baseline (the old one's end is its last figures before the kill).
          const replica = topology.replicas.find((r) => r.name === fault.victim);
          if (replica) figures.set(`${replica.name}#${replica.starts}`, { start: replica.figures() });
        }
        await sleep(settings.settleSeconds * 1000);
      }
    } while ((Date.now() - startedAt) / 1000 < settings.totalSeconds);

    log('soak: stopping traffic, waiting for every lease to expire, reading the audit trail');
    await traffic.stop();
    await sleep(LEASE_SECONDS * 1000 + 500);
    const leasesAfterRun = (await watch.heldLeases()).length;
    watch.detach();
    const ends = await idleFigures(topology, connections);
    const replicaFigures: ReplicaFigures[] = [];
    for (const replica of topology.replicas) {
      const key = replica.starts > 1 ? `${replica.name}#${replica.starts}` : replica.name;
      const start = figures.get(key)?.start;
      const end = ends.get(replica.name);
      if (start && end) replicaFigures.push({ replica: key, start, end });
    }

    const keys = await fetchSignerKeys({ baseUrl: topology.replicas[0].url });
    const trust = { keys: keys.keys, fulcioChainPem: topology.ca.chainPem() };
    const verification = new Map<string, string>();
    for (const e of ledger.exchanges.filter((x) => x.status === 200)) {
      const problem = await verifyAnswer(e, trust);
      if (problem) verification.set(e.id, problem);
    }
    const audit = await readAudit(topology.db.url);
    const replicaNames = topology.replicas.map((r) => r.name);
    if (settings.ledgerFile) writeLedger(settings.ledgerFile, ledger, audit.records);
    const checks = runChecks({
      exchanges: ledger.exchanges,
      readiness: ledger.readiness,
      windows,
      audit: audit.records,
      chain: audit.chain,
      verification,
      segments: watch.segments,
      leasesAfterRun,
      quotaLicenseId: quota.licenseId,
      figures: replicaFigures,
      recoveryBoundMs: settings.recoveryBoundSeconds * 1000,
      rssGrowthMb: settings.rssGrowthMb,
      fdGrowth: settings.fdGrowth,
      tenants: tenants.map((t) => t.name),
      replicas: replicaNames,
    });
    return {
      startedAt: new Date(startedAt).toISOString(),
      durationSeconds: (Date.now() - startedAt) / 1000,
      settings: {
        totalSeconds: settings.totalSeconds,
        faultSeconds: settings.faultSeconds,
        pgOutageSeconds: settings.pgOutageSeconds,
        recoveryBoundSeconds: settings.recoveryBoundSeconds,
        tenants: settings.tenants,
        workers: settings.workers,
        quotaWorkers: settings.quotaWorkers,
        cycles: cycle,
      },
      exchanges: ledger.exchanges.length,
      signed: ledger.exchanges.filter((e) => e.status === 200).length,
      latencyMs: latencies(ledger.exchanges, windows),
      checks,
      phases: phaseRows(windows, ledger.exchanges, replicaNames),
      figures: replicaFigures,
      passed: checks.every((c) => c.pass),
    };
  } finally {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
    connections.closeAll();
    await topology.close();
  }
}
