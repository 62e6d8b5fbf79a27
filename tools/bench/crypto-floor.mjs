// Floor (b), run as a child process (pinned like the service): the crypto a signing request cannot
// avoid — one DPoP proof verification (jose jwtVerify, imported key cached, as the service caches
// it by thumbprint) plus one ES256 signature over the real DSSE PAE bytes (node:crypto). The OpTok
// check is left out: it may be cached per token. Reports ops/s for each lane count.
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { importJWK, jwtVerify } from 'jose';
import { coreBusySeconds } from './cpu-time.mjs';
import { dpopProofFactory } from './dpop.mjs';

const PROOF_POOL = 4096;
const WARMUP_SECONDS = 1;

async function measure({ lanes, seconds, pool, verifyKey, signingKey, pae, skew, core }) {
  let ops = 0;
  let next = 0;
  const end = performance.now() + seconds * 1000;
  const lane = async () => {
    while (performance.now() < end) {
      await jwtVerify(pool[next++ % pool.length], verifyKey, {
        typ: 'dpop+jwt',
        algorithms: ['ES256'],
        clockTolerance: skew,
      });
      sign('sha256', pae, signingKey);
      ops += 1;
    }
  };
  const busyBefore = coreBusySeconds()[core];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: lanes }, lane));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const own = (cpu.user + cpu.system) / 1e6;
  return {
    lanes,
    ops,
    seconds: elapsed,
    opsPerSecond: ops / elapsed,
    cpuUsPerOp: (own * 1e6) / ops,
    // What other processes took of the core(s) this ran on while it ran.
    foreignCpu: Math.max(0, coreBusySeconds()[core] - busyBefore - own) / elapsed,
  };
}

async function run(job) {
  const factory = dpopProofFactory(job);
  const pool = Array.from({ length: PROOF_POOL }, () => factory.proof());
  const { kty, crv, x, y } = job.privateJwk;
  const verifyKey = await importJWK({ kty, crv, x, y }, 'ES256');
  const signingKey = createPrivateKey(readFileSync(job.signingKeyFile));
  const pae = Buffer.from(job.paeBase64, 'base64');
  const core = job.core === undefined ? 'all' : String(job.core);
  const common = { pool, verifyKey, signingKey, pae, skew: job.clockSkewSeconds, core };
  await measure({ ...common, lanes: Math.max(...job.lanes), seconds: WARMUP_SECONDS });
  const results = [];
  for (const lanes of job.lanes) results.push(await measure({ ...common, lanes, seconds: job.seconds }));
  return results;
}

process.once('message', (job) => {
  run(job).then(
    (result) => process.send({ type: 'result', result }, () => process.exit(0)),
    (error) => {
      process.send({ type: 'error', message: String(error?.stack ?? error) }, () => process.exit(1));
    },
  );
});
