// One load run from the generator process, with the CPU figures of its window: the server's (per
// thread kind), the upstream processes' a variant talks to, and every core's busy time, so what
// other processes took shows in the figures.
import { busyOf, coreBusySeconds, cpuSeconds, threadCpuSeconds } from './cpu-time';
import type { LoadJob } from './load';
import { runJob } from './processes';
import type { BenchContext } from './settings';
import { isClean } from './summary';
import type { DrivenRun, LoadResult, ThreadCpu } from './types';

/** A process a variant's Signer talks to (the fakes, its redis-server), sampled like the server. */
export interface Upstream {
  name: string;
  pid: number;
  /** Pinned to the load core (else it runs on either core and counts as "other processes"). */
  onLoadCore: boolean;
}

function sample(serverPid: number, upstream: readonly Upstream[]) {
  return {
    server: cpuSeconds(serverPid),
    threads: threadCpuSeconds(serverPid),
    upstream: upstream.map(({ pid }) => cpuSeconds(pid)),
    cores: coreBusySeconds(),
    wall: performance.now() / 1000,
  };
}

export async function drive(
  ctx: BenchContext,
  job: LoadJob,
  serverPid: number,
  upstream: readonly Upstream[] = [],
): Promise<DrivenRun & { auditIds: string[] }> {
  let start: ReturnType<typeof sample> | undefined;
  const result = await runJob<LoadJob, LoadResult>({
    role: 'load',
    job,
    cpu: ctx.loadCpu,
    timeoutMs: (job.seconds + 120) * 1000,
    onStarted: () => {
      start = sample(serverPid, upstream);
    },
  });
  const end = sample(serverPid, upstream);
  if (start === undefined) throw new Error('load: expected a started message before the result, got none');
  const first = start;
  const wall = end.wall - first.wall;
  const server = end.server - first.server;
  const upstreamSeconds = upstream.map(
    (_, index) => (end.upstream[index] ?? 0) - (first.upstream[index] ?? 0),
  );
  const upstreamSum = (onLoadCore: boolean) =>
    upstream.reduce(
      (sum, u, index) => sum + (u.onLoadCore === onLoadCore ? (upstreamSeconds[index] ?? 0) : 0),
      0,
    );
  const others =
    ctx.serviceCpu === undefined ? result.generatorCpu * wall + upstreamSum(true) + upstreamSum(false) : 0;
  const busy = (cpu: number | undefined) => busyOf(end.cores, cpu) - busyOf(first.cores, cpu);
  const perRequest = (kind: 'main' | 'others', part: keyof ThreadCpu) =>
    ((end.threads[kind][part] - first.threads[kind][part]) * 1000) / Math.max(1, result.requests);
  const perThread = (kind: 'main' | 'others') => ({
    user: perRequest(kind, 'user'),
    system: perRequest(kind, 'system'),
  });
  const byUpstream = (value: (seconds: number) => number) =>
    Object.fromEntries(upstream.map((u, index) => [u.name, value(upstreamSeconds[index] ?? 0)]));
  return {
    ...result,
    ...(upstream.length === 0
      ? {}
      : {
          upstreamCpu: byUpstream((seconds) => seconds / wall),
          upstreamCpuMsPerRequest: byUpstream((seconds) => (seconds * 1000) / Math.max(1, result.requests)),
          // An unpinned upstream (BENCH_PIN=0) runs on either core: its share is counted as "other processes".
          unpinnedUpstreamCpu: upstreamSum(false) / wall,
        }),
    rps: result.ok2xx / result.seconds,
    serverCpu: server / wall,
    serverCpuMsPerRequest: (server * 1000) / Math.max(1, result.requests),
    serverThreadsMsPerRequest: { main: perThread('main'), others: perThread('others') },
    foreignCpu: Math.max(0, busy(ctx.serviceCpu) - server - others) / wall,
    // Other processes on the generator's core delay the load itself: fewer requests in flight.
    ...(ctx.loadCpu === undefined
      ? {}
      : {
          loadCoreForeignCpu:
            Math.max(0, busy(ctx.loadCpu) - result.generatorCpu * wall - upstreamSum(true)) / wall,
        }),
  };
}

/** Records a run's failed requests in `ctx.failures` (they make its verdict invalid). */
export function requireClean(ctx: BenchContext, label: string, run: DrivenRun): void {
  if (isClean(run)) return;
  ctx.failures.push(
    `${label}: ${run.non2xx} non-2xx, ${run.errors} errors, ${run.timeouts} timeouts ${JSON.stringify(run.statuses)}`,
  );
  for (const failure of run.failures) ctx.failures.push(`${label}: ${failure.status} ${failure.body}`);
}
