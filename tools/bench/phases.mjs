// The bench's three measurements. `ctx` carries the settings, the cores (service / load) and the
// list failures are added to; each phase stops every process it started.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { coreBusySeconds, cpuSeconds, threadCpuSeconds } from './cpu-time.mjs';
import { dpopProofFactory, generateDpopKey, jwkThumbprint } from './dpop.mjs';
import { freePort, runJob, startNode, stopProcess, waitUntil } from './processes.mjs';
import { checkAuditTrail, preAuthEncoding, root, signRequestBody } from './workspace.mjs';

export const SIGN_PATH = '/api/v1/signer/sign/dsse';
/** Pool size over the warm-up rate, which a cold JIT and proofs made inside the window understate. */
const POOL_HEADROOM = 3;
const POOL_MINIMUM = 2000;
const READY_TIMEOUT_MS = 30_000;
const here = import.meta.dirname;

/** Quotas out of the way (the bench measures signing, not throttling); logs at warn. */
function signerEnv(profile, origin, port) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SIGNER')));
  return Object.assign(env, {
    SIGNER_CONFIG: profile.configPath,
    SIGNER_LOG_LEVEL: 'warn',
    SIGNER__SERVER__HOST: '127.0.0.1',
    SIGNER__SERVER__PORT: String(port),
    SIGNER__SERVER__PUBLICBASEURL: origin,
    SIGNER__QUOTAS__PLANS__PRO__QPS: '1000000',
    SIGNER__QUOTAS__PLANS__PRO__BURST: '1000000',
    SIGNER__QUOTAS__PLANS__PRO__CONCURRENCY: '100000',
    SIGNER__QUOTAS__PLANS__PRO__DAILYCAP: '1000000000',
  });
}

const post = (url, headers, body) =>
  fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });

/**
 * One load run from the generator process. Also samples the server's CPU (per thread kind) and
 * every core's busy time over the window, so what other processes took shows in the figures.
 */
async function drive(ctx, job, serverPid) {
  let start;
  const sample = () => ({
    server: cpuSeconds(serverPid),
    threads: threadCpuSeconds(serverPid),
    cores: coreBusySeconds(),
    wall: performance.now() / 1000,
  });
  const result = await runJob({
    script: join(here, 'load.mjs'),
    job,
    cpu: ctx.loadCpu,
    timeoutMs: (job.seconds + 120) * 1000,
    onStarted: () => {
      start = sample();
    },
  });
  const end = sample();
  const wall = end.wall - start.wall;
  const server = end.server - start.server;
  const core = ctx.serviceCpu === undefined ? 'all' : String(ctx.serviceCpu);
  const others = ctx.serviceCpu === undefined ? result.generatorCpu * wall : 0;
  const busy = (cpu) => end.cores[String(cpu)] - start.cores[String(cpu)];
  const perRequest = (kind, part) =>
    ((end.threads[kind][part] - start.threads[kind][part]) * 1000) / Math.max(1, result.requests);
  return {
    ...result,
    rps: result.ok2xx / result.seconds,
    serverCpu: server / wall,
    serverCpuMsPerRequest: (server * 1000) / Math.max(1, result.requests),
    serverThreadsMsPerRequest: Object.fromEntries(
      ['main', 'others'].map((kind) => [
        kind,
        { user: perRequest(kind, 'user'), system: perRequest(kind, 'system') },
      ]),
    ),
    foreignCpu: Math.max(0, end.cores[core] - start.cores[core] - server - others) / wall,
    // Other processes on the generator's core delay the load itself: fewer requests in flight.
    ...(ctx.loadCpu === undefined
      ? {}
      : { loadCoreForeignCpu: Math.max(0, busy(ctx.loadCpu) - result.generatorCpu * wall) / wall }),
  };
}

function requireClean(ctx, label, run) {
  if (run.non2xx + run.errors + run.timeouts === 0) return;
  ctx.failures.push(
    `${label}: ${run.non2xx} non-2xx, ${run.errors} errors, ${run.timeouts} timeouts ${JSON.stringify(run.statuses)}`,
  );
  for (const sample of run.failures) ctx.failures.push(`${label}: ${sample.status} ${sample.body}`);
}

/** A DPoP-bound caller with a fresh key and OpTok, past the nonce dance; checks one signing works. */
async function enrol(kit, profile, url, body) {
  const privateJwk = generateDpopKey();
  const authority = await kit.DevAuthority.fromPrivateJwk(profile.authorityPrivateJwk);
  const accessToken = await authority.mint({
    tenant: profile.tenant,
    installation: profile.installation,
    jkt: jwkThumbprint(privateJwk),
    lifetimeSeconds: 3600,
  });
  const headers = { 'content-type': 'application/json', authorization: `DPoP ${accessToken}` };
  const caller = { privateJwk, accessToken, method: 'POST', url };
  // RFC 9449 §8, once: a proof without a nonce earns 401 + DPoP-Nonce; the nonce then serves the run.
  const refused = await post(url, { ...headers, dpop: dpopProofFactory(caller).proof() }, body);
  const nonce = refused.headers.get('dpop-nonce');
  if (refused.status !== 401 || !nonce)
    throw new Error(`expected 401 with DPoP-Nonce, got ${refused.status}`);
  const first = await post(url, { ...headers, dpop: dpopProofFactory({ ...caller, nonce }).proof() }, body);
  if (first.status !== 200)
    throw new Error(`first signing: expected 200, got ${first.status} ${await first.text()}`);
  return { caller: { ...caller, nonce }, first: await first.json() };
}

/** The Signer under load; afterwards, the audit trail is checked against every 200 received. */
export async function measureSigner(ctx, { signerMain, kit }, profile, work) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const logFile = join(work, 'signer.log');
  const flags = ctx.settings.cpuProfile
    ? ['--cpu-prof', `--cpu-prof-dir=${join(root, 'tmp/bench/profiles')}`]
    : [];
  const env = signerEnv(profile, origin, port);
  const child = startNode({ args: [...flags, signerMain], env, cpu: ctx.serviceCpu, logFile });
  const body = signRequestBody(profile);
  const runs = [];
  let enrolled;
  try {
    const ready = async () => (await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(2000) })).ok;
    await waitUntil('signer /readyz', ready, { timeoutMs: READY_TIMEOUT_MS, child });
    enrolled = await enrol(kit, profile, `${origin}${SIGN_PATH}`, body);
    const job = { ...enrolled.caller, origin, path: SIGN_PATH, body, connections: ctx.settings.connections };
    const warmupPool = { size: 0, unique: true };
    runs.push(
      await drive(
        ctx,
        { ...job, collectAuditIds: true, seconds: ctx.settings.warmupSeconds, pool: warmupPool },
        child.pid,
      ),
    );
    requireClean(ctx, 'signer warm-up', runs[0]);
    const expectedRps = Math.max(100, runs[0].rps);
    const size = Math.ceil(expectedRps * ctx.settings.seconds * POOL_HEADROOM) + POOL_MINIMUM;
    const pool = { size, unique: true };
    runs.push(
      await drive(ctx, { ...job, collectAuditIds: true, seconds: ctx.settings.seconds, pool }, child.pid),
    );
    requireClean(ctx, 'signer', runs[1]);
  } catch (error) {
    process.stderr.write(`--- signer log (tail) ---\n${readFileSync(logFile, 'utf8').slice(-4000)}\n`);
    throw error;
  } finally {
    await stopProcess(child);
  }
  const received = [enrolled.first.auditId, ...runs.flatMap((run) => run.auditIds)];
  const audit = await checkAuditTrail(
    kit,
    profile.auditFile,
    received,
    runs.length * ctx.settings.connections,
  );
  for (const problem of audit.problems) ctx.failures.push(`audit trail: ${problem}`);
  const [warmup, main] = runs.map(({ auditIds: _ids, ...run }) => run);
  return { main, warmup, audit, caller: enrolled.caller, envelope: enrolled.first.bundle.dsse, body };
}

/** Floor (a): the no-op server, same body and headers, a proof pool of the same size, cycled. */
export async function measureNoop(ctx, signer, work) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const args = [join(here, 'noop-server.mjs'), String(port)];
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
    const runs = [];
    for (const [label, seconds] of [
      ['no-op warm-up', ctx.settings.warmupSeconds],
      ['no-op', ctx.settings.seconds],
    ]) {
      const { auditIds: _none, ...run } = await drive(
        ctx,
        { ...job, collectAuditIds: false, seconds },
        child.pid,
      );
      requireClean(ctx, label, run);
      runs.push(run);
    }
    return { warmup: runs[0], main: runs[1] };
  } finally {
    await stopProcess(child);
  }
}

/** Floor (b): with as many in flight as the load has connections, then one at a time. */
export function measureCrypto(ctx, profile, signer) {
  const lanes = [ctx.settings.connections, 1];
  const job = {
    ...signer.caller,
    signingKeyFile: profile.signingKeyFile,
    paeBase64: preAuthEncoding(signer.envelope).toString('base64'),
    clockSkewSeconds: 30,
    seconds: ctx.settings.cryptoSeconds,
    lanes,
    core: ctx.serviceCpu,
  };
  const timeoutMs = (ctx.settings.cryptoSeconds * lanes.length + 60) * 1000;
  return runJob({ script: join(here, 'crypto-floor.mjs'), job, cpu: ctx.serviceCpu, timeoutMs });
}
