#!/usr/bin/env node
// `npm run bench`: the Signer's signing throughput against two floors measured in the same run on
// the same machine — (a) a Nest+Fastify no-op endpoint fed the same requests, (b) the request's
// unavoidable crypto in a tight loop — and the ratio signer / combined floor. See docs/performance.md.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { dpopProofFactory, generateDpopKey, jwkThumbprint } from './dpop.mjs';
import {
  coreBusySeconds,
  cpuSeconds,
  threadCpuSeconds,
  freePort,
  pinningAvailable,
  runJob,
  startNode,
  stopProcess,
  waitUntil,
} from './processes.mjs';
import {
  buildAll,
  checkAuditTrail,
  filesystemOf,
  generateProfile,
  preAuthEncoding,
  root,
  signRequestBody,
} from './workspace.mjs';
import { printReport } from './report.mjs';

const SIGN_PATH = '/api/v1/signer/sign/dsse';
export const TARGET_RATIO = 0.6;
/** The service's DPoP nonces live 300 s (embedded profile); one nonce serves the whole run. */
const MAX_SECONDS = 240;
const POOL_HEADROOM = 1.5;
const SERVICE_CPU = 0;
const LOAD_CPU = 1;

function setting(name, fallback, max = Infinity) {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max)
    throw new Error(`${name}: expected a number in (0, ${max}], got ${raw}`);
  return value;
}

const settings = {
  seconds: setting('BENCH_SECONDS', 10, MAX_SECONDS),
  warmupSeconds: setting('BENCH_WARMUP_SECONDS', 3, 60),
  cryptoSeconds: setting('BENCH_CRYPTO_SECONDS', 5, 60),
  connections: Math.round(setting('BENCH_CONNECTIONS', 32, 1024)),
  pinned: process.env.BENCH_PIN !== '0' && pinningAvailable(),
  cpuProfile: process.env.BENCH_CPU_PROF === '1',
  keep: process.env.BENCH_KEEP === '1',
};
const serviceCpu = settings.pinned ? SERVICE_CPU : undefined;
const loadCpu = settings.pinned ? LOAD_CPU : undefined;
const loadTimeoutMs = (seconds) => (seconds + 120) * 1000;
const failures = [];

/**
 * One load run from the generator process. Also samples, over the window, the server's CPU and
 * every core's busy time, so CPU used by other processes on this machine shows in the figures.
 */
async function drive(job, serverPid) {
  let start;
  const sample = () => ({
    server: cpuSeconds(serverPid),
    threads: threadCpuSeconds(serverPid),
    cores: coreBusySeconds(),
    wall: performance.now() / 1000,
  });
  const result = await runJob({
    script: join(import.meta.dirname, 'load.mjs'),
    job,
    cpu: loadCpu,
    timeoutMs: loadTimeoutMs(job.seconds),
    onStarted: () => {
      start = sample();
    },
  });
  const end = sample();
  const wall = end.wall - start.wall;
  const server = end.server - start.server;
  const generator = result.generatorCpu * wall;
  const busy = (core) => end.cores[core] - start.cores[core];
  const { auditIds, ...summary } = result;
  return {
    ...summary,
    rps: result.ok2xx / result.seconds,
    serverCpu: server / wall,
    serverCpuMsPerRequest: (server * 1000) / Math.max(1, result.requests),
    serverThreadsMsPerRequest: perRequest(start.threads, end.threads, result.requests),
    // Cores' busy time not spent by the server or the generator: other processes (and this one).
    foreignCpu: Math.max(0, busy('all') - server - generator) / wall,
    ...(serviceCpu === undefined
      ? {}
      : { serviceCoreForeign: Math.max(0, busy(String(serviceCpu)) - server) / wall }),
    auditIds,
  };
}

/** Per-request CPU ms by thread kind and user/system, from two {@link threadCpuSeconds} samples. */
function perRequest(before, after, requests) {
  const ms = (a, b) => Math.round(((a - (b ?? 0)) * 1e6) / Math.max(1, requests)) / 1000;
  return Object.fromEntries(
    Object.entries(after).map(([kind, t]) => [
      kind,
      { user: ms(t.user, before[kind]?.user), system: ms(t.system, before[kind]?.system) },
    ]),
  );
}

function requireClean(label, run) {
  const bad = run.non2xx + run.errors + run.timeouts;
  if (bad > 0) {
    failures.push(
      `${label}: ${run.non2xx} non-2xx, ${run.errors} errors, ${run.timeouts} timeouts ${JSON.stringify(run.statuses)}`,
    );
    for (const sample of run.failures) failures.push(`${label}: ${sample.status} ${sample.body}`);
  }
}

async function post(url, headers, body) {
  return fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
}

async function measureSigner({ signerMain, kit }, profile, work) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const url = `${origin}${SIGN_PATH}`;
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SIGNER')));
  Object.assign(env, {
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
  const flags = settings.cpuProfile
    ? ['--cpu-prof', `--cpu-prof-dir=${join(root, 'tmp/bench/profiles')}`]
    : [];
  const child = startNode({
    args: [...flags, signerMain],
    env,
    cpu: serviceCpu,
    logFile: join(work, 'signer.log'),
  });
  let sanity;
  let warmup;
  let main;
  let loadCaller;
  let loadBody;
  try {
    const ready = async () => (await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(2000) })).ok;
    await waitUntil('signer /readyz', ready, { timeoutMs: 30_000, child });

    const privateJwk = generateDpopKey();
    const accessToken = await (
      await kit.DevAuthority.fromPrivateJwk(profile.authorityPrivateJwk)
    ).mint({
      tenant: profile.tenant,
      installation: profile.installation,
      jkt: jwkThumbprint(privateJwk),
      lifetimeSeconds: MAX_SECONDS + 300,
    });
    const body = signRequestBody(profile);
    const headers = { 'content-type': 'application/json', authorization: `DPoP ${accessToken}` };
    const caller = { privateJwk, accessToken, method: 'POST', url };
    // The nonce dance once (RFC 9449 §8): a proof without a nonce earns 401 + DPoP-Nonce.
    const refused = await post(url, { ...headers, dpop: dpopProofFactory(caller).proof() }, body);
    const nonce = refused.headers.get('dpop-nonce');
    if (refused.status !== 401 || !nonce)
      throw new Error(`expected 401 with DPoP-Nonce, got ${refused.status}`);
    const first = await post(url, { ...headers, dpop: dpopProofFactory({ ...caller, nonce }).proof() }, body);
    if (first.status !== 200)
      throw new Error(`first signing request: expected 200, got ${first.status} ${await first.text()}`);
    sanity = await first.json();

    loadCaller = { ...caller, nonce };
    loadBody = body;
    const job = {
      ...caller,
      nonce,
      origin,
      path: SIGN_PATH,
      body,
      connections: settings.connections,
      collectAuditIds: true,
    };
    warmup = await drive(
      { ...job, seconds: settings.warmupSeconds, pool: { size: 0, unique: true, expectedRps: 1 } },
      child.pid,
    );
    requireClean('signer warm-up', warmup);
    const expectedRps = Math.max(100, warmup.rps);
    const size = Math.ceil(expectedRps * settings.seconds * POOL_HEADROOM) + 2000;
    main = await drive(
      { ...job, seconds: settings.seconds, pool: { size, unique: true, expectedRps } },
      child.pid,
    );
    requireClean('signer', main);
  } catch (error) {
    process.stderr.write(
      `--- signer log (tail) ---\n${readFileSync(join(work, 'signer.log'), 'utf8').slice(-4000)}\n`,
    );
    throw error;
  } finally {
    await stopProcess(child);
  }
  const acknowledged = [sanity.auditId, ...warmup.auditIds, ...main.auditIds];
  const audit = await checkAuditTrail(kit, profile.auditFile, acknowledged, 2 * settings.connections);
  for (const problem of audit.problems) failures.push(`audit trail: ${problem}`);
  delete warmup.auditIds;
  delete main.auditIds;
  return { main, warmup, audit, loadCaller, envelope: sanity.bundle.dsse, body: loadBody };
}

async function measureNoop(work, body, caller) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const args = [join(import.meta.dirname, 'noop-server.mjs'), String(port)];
  const child = startNode({ args, env: process.env, cpu: serviceCpu, logFile: join(work, 'noop.log') });
  try {
    const ready = async () =>
      (await post(`${origin}${SIGN_PATH}`, { 'content-type': 'application/json' }, body)).ok;
    await waitUntil('no-op server', ready, { timeoutMs: 30_000, child });
    const job = {
      ...caller,
      origin,
      path: SIGN_PATH,
      body,
      connections: settings.connections,
      collectAuditIds: false,
    };
    const pool = { ...caller.pool, unique: false };
    const warmup = await drive({ ...job, seconds: settings.warmupSeconds, pool }, child.pid);
    requireClean('no-op warm-up', warmup);
    const main = await drive({ ...job, seconds: settings.seconds, pool }, child.pid);
    requireClean('no-op', main);
    delete warmup.auditIds;
    delete main.auditIds;
    return { main, warmup };
  } finally {
    await stopProcess(child);
  }
}

async function measureCrypto(profile, caller, envelope) {
  const lanes = [settings.connections, 1];
  const job = { ...caller, signingKeyFile: profile.signingKeyFile, clockSkewSeconds: 30, lanes };
  Object.assign(job, {
    paeBase64: preAuthEncoding(envelope).toString('base64'),
    seconds: settings.cryptoSeconds,
  });
  const timeoutMs = (settings.cryptoSeconds * lanes.length + 60) * 1000;
  return runJob({ script: join(import.meta.dirname, 'crypto-floor.mjs'), job, cpu: serviceCpu, timeoutMs });
}

async function main() {
  const started = new Date();
  process.stderr.write(`bench: building…\n`);
  const built = await buildAll();
  const work = mkdtempSync(join(tmpdir(), 'signer-bench-'));
  try {
    const profile = generateProfile(built.profileGenerator, join(work, 'profile'));
    const pinning = settings.pinned ? `service on CPU ${SERVICE_CPU}, load on CPU ${LOAD_CPU}` : 'not pinned';
    process.stderr.write(
      `bench: signer, ${settings.connections} connections, ${settings.seconds} s (${pinning})…\n`,
    );
    const signer = await measureSigner(built, profile, work);
    process.stderr.write(`bench: floor (a) no-op Nest+Fastify…\n`);
    // Same body, same headers, a proof pool of the same size (cycled: the no-op checks nothing).
    const noop = await measureNoop(work, signer.body, {
      ...signer.loadCaller,
      pool: { size: signer.main.proofs.poolSize, expectedRps: 1 },
    });
    process.stderr.write(`bench: floor (b) DPoP verify + ES256 sign…\n`);
    const crypto = await measureCrypto(profile, signer.loadCaller, signer.envelope);

    const floorA = noop.main.rps;
    const floorB = crypto[0].opsPerSecond;
    const combined = 1 / (1 / floorA + 1 / floorB);
    const ratio = signer.main.rps / combined;
    const results = {
      date: started.toISOString(),
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model,
        node: process.version,
        kernel: release(),
        auditFs: filesystemOf(work),
      },
      settings,
      signer: { ...signer.main, warmup: signer.warmup, audit: signer.audit },
      floorA: noop.main,
      floorB: crypto,
      combinedFloorRps: combined,
      ratio,
      target: TARGET_RATIO,
      verdict: ratio >= TARGET_RATIO ? 'PASS' : 'BELOW',
      failures,
    };
    mkdirSync(join(root, 'tmp/bench'), { recursive: true });
    writeFileSync(join(root, 'tmp/bench/latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    printReport(results);
  } finally {
    if (!settings.keep) rmSync(work, { recursive: true, force: true });
    else process.stderr.write(`bench: kept ${work}\n`);
  }
  if (failures.length > 0) {
    process.stderr.write(`\nbench: FAILED\n  ${failures.join('\n  ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  process.stderr.write(`bench: ${error?.stack ?? error}\n`);
  process.exit(1);
});
