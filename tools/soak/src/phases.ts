import type { Fault, Upstream } from './faults';
import type { Ledger } from './ledger';
import type { SignerReplica } from './replicas';
import { sleep, waitFor } from './wait';

/** When one fault was on, and what operators could see meanwhile. Epoch ms. */
export interface FaultWindow {
  name: string;
  upstream: Upstream;
  victim?: string;
  cycle: number;
  /** Injection began / was complete. */
  injectAt: number;
  start: number;
  /** Removal began (the fault "ends" here: recovery is measured from it) / was complete. */
  clearAt: number;
  end: number;
  /** `/readyz` of each replica halfway through the fault. */
  readyz: Record<string, string>;
  /** `signer_upstream_errors_total` increase over the fault, summed over the replicas, by upstream. */
  upstreamErrors: Record<string, number>;
  notes: string[];
}

/**
 * `/readyz` of one replica as `200 ready` or `503 postgres=unavailable,…` (or the transport error),
 * read on its admin listener: the public `/readyz` says ready or not, without naming dependencies.
 */
async function readiness(replica: SignerReplica): Promise<string> {
  try {
    const response = await fetch(`${replica.adminUrl}/readyz`, {
      signal: AbortSignal.timeout(4000),
    });
    const body = (await response.json()) as { dependencies?: Record<string, string> };
    const failing = Object.entries(body.dependencies ?? {}).filter(([, state]) => state !== 'ok');
    return response.status === 200
      ? '200 ready'
      : `${response.status} ${failing.map(([name, state]) => `${name}=${state}`).join(',')}`;
  } catch (error) {
    return `no answer (${(error as Error).name})`;
  }
}

/** Sums `signer_upstream_errors_total{upstream=…}` over the replicas that answer. */
export async function upstreamErrors(replicas: SignerReplica[]): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const replica of replicas) {
    let text = '';
    try {
      text = await (await fetch(`${replica.url}/metrics`, { signal: AbortSignal.timeout(4000) })).text();
    } catch {
      continue;
    }
    for (const match of text.matchAll(
      /^signer_upstream_errors_total\{[^}]*upstream="([^"]+)"[^}]*\} (\S+)$/gm,
    ))
      totals[match[1]] = (totals[match[1]] ?? 0) + Number(match[2]);
  }
  return totals;
}

function increase(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, value] of Object.entries(after)) {
    const grown = value - (before[name] ?? 0);
    if (grown > 0) delta[name] = grown;
  }
  return delta;
}

/**
 * Injects one fault, keeps it for its duration while traffic runs, removes it, then waits
 * (bounded) until every replica has answered a 200 again before the next fault.
 */
export async function runFault(
  fault: Fault,
  cycle: number,
  replicas: SignerReplica[],
  ledger: Ledger,
  recoveryWaitMs: number,
): Promise<FaultWindow> {
  const errorsBefore = await upstreamErrors(replicas);
  const injectAt = Date.now();
  await fault.inject();
  const start = Date.now();
  await sleep(fault.durationMs / 2);
  const readyz: Record<string, string> = {};
  for (const replica of replicas) readyz[replica.name] = replica.running ? await readiness(replica) : 'down';
  await sleep(Math.max(0, start + fault.durationMs - Date.now()));
  const clearAt = Date.now();
  await fault.clear();
  const end = Date.now();
  await waitFor(
    () =>
      replicas.every((replica) =>
        ledger.exchanges.some((e) => e.replica === replica.name && e.status === 200 && e.start >= clearAt),
      ),
    { timeoutMs: recoveryWaitMs, intervalMs: 100 },
  );
  return {
    name: fault.name,
    upstream: fault.upstream,
    victim: fault.victim,
    cycle,
    injectAt,
    start,
    clearAt,
    end,
    readyz,
    upstreamErrors: increase(errorsBefore, await upstreamErrors(replicas)),
    notes: fault.notes().filter(Boolean),
  };
}
