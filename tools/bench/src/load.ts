// Load generator, run as a child process (its own core when pinned): drives one POST route with
// autocannon and reports counts, latency, its own CPU use and the audit ids of the 200 answers.
// The orchestrator sends the job over IPC; proofs are made before the timed window (proof-pool.ts).
import autocannon from 'autocannon';
import { dpopProofFactory, type DpopCaller } from './dpop';
import { proofPool, type PoolOptions } from './proof-pool';
import type { LoadResult } from './types';

const AUDIT_ID = /"auditId":"([0-9a-f-]{36})"/;
const MAX_FAILURE_SAMPLES = 5;

export interface LoadJob extends DpopCaller {
  origin: string;
  path: string;
  body: string;
  connections: number;
  seconds: number;
  pool: PoolOptions;
  /** Collect the audit ids of the 200 answers (the signer's trail is checked against them). */
  collectAuditIds: boolean;
}

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const proofs = proofPool(dpopProofFactory(job), { ...job.pool, seconds: job.seconds });
  const auditIds: string[] = [];
  const statuses: Record<string, number> = {};
  const failures: LoadResult['failures'] = [];
  process.send?.({ type: 'started' });
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const result = await autocannon({
    url: job.origin,
    connections: job.connections,
    duration: job.seconds,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: job.path,
        headers: { 'content-type': 'application/json', authorization: `DPoP ${job.accessToken}` },
        body: job.body,
        setupRequest(request) {
          request.headers['dpop'] = proofs.take();
          return request;
        },
        onResponse(status, body) {
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === 200) {
            const match = job.collectAuditIds ? AUDIT_ID.exec(body) : null;
            if (match?.[1]) auditIds.push(match[1]);
          } else if (failures.length < MAX_FAILURE_SAMPLES) {
            failures.push({ status, body: body.slice(0, 300) });
          }
        },
      },
    ],
  });
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - wallBefore;
  return {
    seconds: result.duration,
    requests: result.requests.total,
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches,
    statuses,
    failures,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.mean,
    },
    generatorCpu: (cpu.user + cpu.system) / 1000 / wallMs,
    proofGenerationMs: Math.round(proofs.generationMs),
    proofs: proofs.stats(),
    auditIds,
  };
}
