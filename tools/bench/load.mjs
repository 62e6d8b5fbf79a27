// Load generator, run as a child process (its own core when pinned): drives one POST route with
// autocannon and reports counts, latency, its own CPU use and the audit ids of the 200 answers.
// The orchestrator sends the job over IPC; proofs are made before the timed window (proof-pool.mjs).
import autocannon from 'autocannon';
import { dpopProofFactory } from './dpop.mjs';
import { proofPool } from './proof-pool.mjs';

const AUDIT_ID = /"auditId":"([0-9a-f-]{36})"/;
const MAX_FAILURE_SAMPLES = 5;

async function run(job) {
  const proofs = proofPool(dpopProofFactory(job), { ...job.pool, seconds: job.seconds });
  const auditIds = [];
  const statuses = {};
  const failures = [];
  process.send({ type: 'started' });
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
          request.headers.dpop = proofs.take();
          return request;
        },
        onResponse(status, body) {
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === 200) {
            const match = job.collectAuditIds ? AUDIT_ID.exec(body) : null;
            if (match) auditIds.push(match[1]);
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

process.once('message', (job) => {
  run(job).then(
    (result) => process.send({ type: 'result', result }, () => process.exit(0)),
    (error) => {
      process.send({ type: 'error', message: String(error?.stack ?? error) }, () => process.exit(1));
    },
  );
});
