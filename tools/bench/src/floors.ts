// The two floors the Signer is measured against, with the caller and request of its base run.
import { join } from 'node:path';
import { pae } from '@signer/client';
import { freePort } from '@signer/testing';
import type { CryptoJob } from './crypto-floor';
import { drive, requireClean } from './drive';
import { roleArgs, runJob, startNode, stopProcess, waitUntil } from './processes';
import type { BenchContext } from './settings';
import { post, READY_TIMEOUT_MS, SIGN_PATH, type SignerMeasurement } from './signer-phase';
import type { CryptoLane, DrivenRun } from './types';
import type { BenchProfile } from './workspace';

/** The service's DPoP clock skew (the embedded profile's): floor (b) verifies with the same. */
const CLOCK_SKEW_SECONDS = 30;

/** Floor (a): the no-op server, same body and headers, a proof pool of the same size, cycled. */
export async function measureNoop(
  ctx: BenchContext,
  signer: SignerMeasurement,
  work: string,
): Promise<{ warmup: DrivenRun; main: DrivenRun }> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const args = roleArgs('noop-server', String(port));
  const child = startNode({ args, env: process.env, cpu: ctx.serviceCpu, logFile: join(work, 'noop.log') });
  try {
    const { body } = signer;
    const ready = async () =>
      (await post(`${origin}${SIGN_PATH}`, { 'content-type': 'application/json' }, body)).ok;
    await waitUntil('no-op server', ready, { timeoutMs: READY_TIMEOUT_MS, child });
    const pool = { size: signer.main.proofs.poolSize, unique: false };
    const job = {
      ...signer.caller,
      origin,
      path: SIGN_PATH,
      body,
      connections: ctx.settings.connections,
      pool,
    };
    const runs: DrivenRun[] = [];
    for (const [label, seconds] of [
      ['no-op warm-up', ctx.settings.warmupSeconds],
      ['no-op', ctx.settings.seconds],
    ] as const) {
      const { auditIds: _none, ...run } = await drive(
        ctx,
        { ...job, collectAuditIds: false, seconds },
        child.pid ?? 0,
      );
      requireClean(ctx, label, run);
      runs.push(run);
    }
    const [warmup, main] = runs;
    if (warmup === undefined || main === undefined)
      throw new Error(`no-op: expected two runs, got ${runs.length}`);
    return { warmup, main };
  } finally {
    await stopProcess(child);
  }
}

/** Floor (b): with as many in flight as the load has connections, then one at a time. */
export function measureCrypto(
  ctx: BenchContext,
  profile: BenchProfile,
  signer: SignerMeasurement,
): Promise<CryptoLane[]> {
  const lanes = [ctx.settings.connections, 1];
  const { payloadType, payload } = signer.envelope;
  const job: CryptoJob = {
    ...signer.caller,
    signingKeyFile: profile.signingKeyFile,
    paeBase64: pae(payloadType, Buffer.from(payload, 'base64')).toString('base64'),
    clockSkewSeconds: CLOCK_SKEW_SECONDS,
    seconds: ctx.settings.cryptoSeconds,
    lanes,
    core: ctx.serviceCpu,
  };
  const timeoutMs = (ctx.settings.cryptoSeconds * lanes.length + 60) * 1000;
  return runJob<CryptoJob, CryptoLane[]>({ role: 'crypto-floor', job, cpu: ctx.serviceCpu, timeoutMs });
}
