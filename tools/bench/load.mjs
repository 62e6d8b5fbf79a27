// Load generator, run as a child process (its own core when pinned): drives one POST route with
// autocannon and reports counts, latency, its own CPU use and the audit ids of the 200 answers.
// The orchestrator sends the job over IPC; every proof is built before the timed window.
import autocannon from 'autocannon';
import { dpopProofFactory } from './dpop.mjs';

const AUDIT_ID = /"auditId":"([0-9a-f-]{36})"/;
const MAX_FAILURE_SAMPLES = 5;

/**
 * Proofs for the window. `unique`: each is sent once, with `iat` set to when it should be used at
 * the expected rate (within the server's skew); once the pool runs out, proofs are made inside
 * the window and counted. Otherwise the pool is cycled (for a floor that checks nothing).
 */
function proofSource(job) {
  const factory = dpopProofFactory(job);
  const { size, unique, expectedRps } = job.pool;
  const started = performance.now();
  const epoch = Math.floor(Date.now() / 1000);
  const pool = new Array(size);
  for (let i = 0; i < size; i += 1) pool[i] = factory.proof(epoch + Math.floor(i / expectedRps));
  const generationMs = performance.now() - started;
  let next = 0;
  let madeInWindow = 0;
  return {
    generationMs,
    take() {
      if (next < size) return pool[next++];
      if (!unique && size > 0) return pool[next++ % size];
      madeInWindow += 1;
      return factory.proof();
    },
    stats: () => ({ poolSize: size, used: Math.min(next, size), madeInWindow }),
  };
}

async function run(job) {
  const proofs = proofSource(job);
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
