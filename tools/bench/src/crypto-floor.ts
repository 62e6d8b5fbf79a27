// Floor (b), run as a child process (pinned like the service): the crypto a signing request cannot
// avoid — one DPoP proof verification (jose jwtVerify, imported key cached, as the service caches
// it by thumbprint) plus one ES256 signature over the real DSSE PAE bytes (node:crypto). The OpTok
// check is left out: it may be cached per token. Reports ops/s for each lane count.
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { importJWK, jwtVerify } from 'jose';
import { busyOf, coreBusySeconds } from './cpu-time';
import { dpopProofFactory, type DpopCaller } from './dpop';
import type { CryptoLane } from './types';

const PROOF_POOL = 4096;
const WARMUP_SECONDS = 1;

export interface CryptoJob extends DpopCaller {
  signingKeyFile: string;
  paeBase64: string;
  clockSkewSeconds: number;
  seconds: number;
  lanes: number[];
  /** The core this runs on (pinned), for what other processes took of it. */
  core?: number;
}

interface Loop {
  pool: string[];
  verifyKey: Awaited<ReturnType<typeof importJWK>>;
  signingKey: KeyObject;
  pae: Buffer;
  skew: number;
  core?: number;
}

async function measure(loop: Loop, lanes: number, seconds: number): Promise<CryptoLane> {
  let ops = 0;
  let next = 0;
  const end = performance.now() + seconds * 1000;
  const lane = async () => {
    while (performance.now() < end) {
      await jwtVerify(loop.pool[next++ % loop.pool.length] ?? '', loop.verifyKey, {
        typ: 'dpop+jwt',
        algorithms: ['ES256'],
        clockTolerance: loop.skew,
      });
      sign('sha256', loop.pae, loop.signingKey);
      ops += 1;
    }
  };
  const busyBefore = busyOf(coreBusySeconds(), loop.core);
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
    foreignCpu: Math.max(0, busyOf(coreBusySeconds(), loop.core) - busyBefore - own) / elapsed,
  };
}

export async function runCryptoFloor(job: CryptoJob): Promise<CryptoLane[]> {
  const factory = dpopProofFactory(job);
  const { kty, crv, x, y } = job.privateJwk;
  const loop: Loop = {
    pool: Array.from({ length: PROOF_POOL }, () => factory.proof()),
    verifyKey: await importJWK({ kty, crv, x, y }, 'ES256'),
    signingKey: createPrivateKey(readFileSync(job.signingKeyFile)),
    pae: Buffer.from(job.paeBase64, 'base64'),
    skew: job.clockSkewSeconds,
    core: job.core,
  };
  await measure(loop, Math.max(...job.lanes), WARMUP_SECONDS);
  const results: CryptoLane[] = [];
  for (const lanes of job.lanes) results.push(await measure(loop, lanes, job.seconds));
  return results;
}
