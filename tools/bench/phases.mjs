// The bench's measurements: the signer (base run and variant runs) and the two floors. `ctx`
// carries the settings, the cores (service / load) and the list failures are added to; each phase
// stops every process it started.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { coreBusySeconds, cpuSeconds, threadCpuSeconds } from './cpu-time.mjs';
import { dpopProofFactory, generateDpopKey, jwkThumbprint } from './dpop.mjs';
import { freePort, runJob, startIpcNode, startNode, stopProcess, waitUntil } from './processes.mjs';
import { checkAuditTrail, preAuthEncoding, root, signRequestBody } from './workspace.mjs';

export const SIGN_PATH = '/api/v1/signer/sign/dsse';
/** Pool size over the warm-up rate, which a cold JIT and proofs made inside the window understate. */
const POOL_HEADROOM = 3;
const POOL_MINIMUM = 2000;
const READY_TIMEOUT_MS = 30_000;
const SETTLE_TIMEOUT_MS = 5000;
const here = import.meta.dirname;

/** Quotas out of the way (the bench measures signing, not throttling); logs at warn. */
function signerEnv(configPath, origin, port) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SIGNER')));
  return Object.assign(env, {
    SIGNER_CONFIG: configPath,
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
 * One load run from the generator process. Also samples the server's CPU (per thread kind), the
 * CPU of the `upstream` processes a variant talks to (`{name, pid, onLoadCore}`: the fakes and the
 * redis variant's server, on the load core unless unpinned) and every core's busy time over the
 * window, so what other processes took shows in the figures.
 */
async function drive(ctx, job, serverPid, upstream = []) {
  let start;
  const sample = () => ({
    server: cpuSeconds(serverPid),
    threads: threadCpuSeconds(serverPid),
    upstream: upstream.map(({ pid }) => cpuSeconds(pid)),
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
  const upstreamSeconds = upstream.map((_, index) => end.upstream[index] - start.upstream[index]);
  const upstreamSum = (onLoadCore) =>
    upstream.reduce((sum, u, index) => sum + (u.onLoadCore === onLoadCore ? upstreamSeconds[index] : 0), 0);
  const core = ctx.serviceCpu === undefined ? 'all' : String(ctx.serviceCpu);
  const others =
    ctx.serviceCpu === undefined ? result.generatorCpu * wall + upstreamSum(true) + upstreamSum(false) : 0;
  const busy = (cpu) => end.cores[String(cpu)] - start.cores[String(cpu)];
  const perRequest = (kind, part) =>
    ((end.threads[kind][part] - start.threads[kind][part]) * 1000) / Math.max(1, result.requests);
  return {
    ...result,
    ...(upstream.length === 0
      ? {}
      : {
          upstreamCpu: Object.fromEntries(
            upstream.map((u, index) => [u.name, upstreamSeconds[index] / wall]),
          ),
          upstreamCpuMsPerRequest: Object.fromEntries(
            upstream.map((u, index) => [
              u.name,
              (upstreamSeconds[index] * 1000) / Math.max(1, result.requests),
            ]),
          ),
          // An unpinned upstream (BENCH_PIN=0) runs on either core: its share is counted as "other processes".
          unpinnedUpstreamCpu: upstreamSum(false) / wall,
        }),
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
      : {
          loadCoreForeignCpu:
            Math.max(0, busy(ctx.loadCpu) - result.generatorCpu * wall - upstreamSum(true)) / wall,
        }),
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

const METRIC_LINE = /^(signer_requests_total|signer_cache_hits_total)(?:\{([^}]*)\})? (\S+)$/;

/** The service's own counters from `/metrics`: decisions (all, signed) and cache hits by cache. */
async function serviceCounters(origin) {
  const response = await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET /metrics: ${response.status}`);
  const counters = { requests: 0, signed: 0, cacheHits: { optok: 0, poe: 0, release: 0 } };
  for (const line of (await response.text()).split('\n')) {
    const match = METRIC_LINE.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    const value = Number(match[3]);
    if (match[1] === 'signer_cache_hits_total') counters.cacheHits[labels.cache] = value;
    else {
      counters.requests += value;
      if (labels.outcome === 'signed') counters.signed += value;
    }
  }
  return counters;
}

/** The service's counters once the requests still in flight are answered (two reads agree, ≤ 5 s). */
async function settledCounters(origin) {
  let previous = await serviceCounters(origin);
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const current = await serviceCounters(origin);
    if (current.requests === previous.requests) return current;
    previous = current;
  }
  return previous;
}

/** `after − before` for every number in a (nested) counters object. */
function difference(after, before) {
  return Object.fromEntries(
    Object.entries(after).map(([key, value]) => [
      key,
      typeof value === 'number' ? value - (before[key] ?? 0) : difference(value, before[key] ?? {}),
    ]),
  );
}

/**
 * The Signer under load; afterwards, the audit trail is checked against every 200 received.
 * `run` makes it a variant: its name, extra environment, config file, request body, audit file,
 * the upstream processes to sample and a `counters()` of its fakes. The service's counters
 * (`/metrics`) and the fakes' are read just before and just after the measured window.
 */
export async function measureSigner(ctx, { signerMain, kit }, profile, work, run = {}) {
  const name = run.name ?? 'signer';
  const auditFile = run.auditFile ?? profile.auditFile;
  const counters = run.counters ?? (async () => ({}));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const logFile = join(work, `${name}.log`);
  const flags = ctx.settings.cpuProfile
    ? ['--cpu-prof', `--cpu-prof-dir=${join(root, 'tmp/bench/profiles')}`]
    : [];
  const env = {
    ...signerEnv(run.configPath ?? profile.configPath, origin, port),
    ...run.env,
    ...(run.auditFile ? { SIGNER__AUDIT__FILEPATH: run.auditFile } : {}),
  };
  const child = startNode({ args: [...flags, signerMain], env, cpu: ctx.serviceCpu, logFile });
  const body = run.body ?? signRequestBody(profile);
  const runs = [];
  let enrolled;
  let before;
  let after;
  try {
    const ready = async () => (await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(2000) })).ok;
    await waitUntil(`${name} /readyz`, ready, { timeoutMs: READY_TIMEOUT_MS, child });
    enrolled = await enrol(kit, profile, `${origin}${SIGN_PATH}`, body);
    const job = { ...enrolled.caller, origin, path: SIGN_PATH, body, connections: ctx.settings.connections };
    const warmupPool = { size: 0, unique: true };
    runs.push(
      await drive(
        ctx,
        { ...job, collectAuditIds: true, seconds: ctx.settings.warmupSeconds, pool: warmupPool },
        child.pid,
        run.upstream,
      ),
    );
    requireClean(ctx, `${name} warm-up`, runs[0]);
    const expectedRps = Math.max(100, runs[0].rps);
    const size = Math.ceil(expectedRps * ctx.settings.seconds * POOL_HEADROOM) + POOL_MINIMUM;
    const pool = { size, unique: true };
    before = { service: await settledCounters(origin), upstream: await counters() };
    runs.push(
      await drive(
        ctx,
        { ...job, collectAuditIds: true, seconds: ctx.settings.seconds, pool },
        child.pid,
        run.upstream,
      ),
    );
    after = { service: await settledCounters(origin), upstream: await counters() };
    requireClean(ctx, name, runs[1]);
  } catch (error) {
    process.stderr.write(`--- ${name} log (tail) ---\n${readFileSync(logFile, 'utf8').slice(-4000)}\n`);
    throw error;
  } finally {
    await stopProcess(child);
  }
  const received = [enrolled.first.auditId, ...runs.flatMap((r) => r.auditIds)];
  const audit = await checkAuditTrail(kit, auditFile, received, runs.length * ctx.settings.connections);
  for (const problem of audit.problems) ctx.failures.push(`${name} audit trail: ${problem}`);
  const [warmup, main] = runs.map(({ auditIds: _ids, ...r }) => r);
  const window = difference(after.service, before.service);
  return {
    main: {
      ...main,
      // The verified-token cache over the window. The service counts hits only; every other
      // decision verified its OpTok (or joined a verification of the same token in flight).
      window: {
        ...window,
        tokenCache: { hits: window.cacheHits.optok, notFromCache: window.requests - window.cacheHits.optok },
      },
      upstream: { window: difference(after.upstream, before.upstream), total: after.upstream },
    },
    warmup,
    audit,
    caller: enrolled.caller,
    envelope: enrolled.first.bundle.dsse,
    body,
  };
}

/**
 * One variant run: its fakes (if any) in their own process on the load core, the signer with the
 * variant's settings, then the variant's checks on the counters.
 */
export async function measureVariant(ctx, built, profile, dir, variant) {
  const fakes =
    variant.fakes.length === 0
      ? undefined
      : startIpcNode({
          args: [join(here, 'fakes.mjs'), built.fakesKit],
          cpu: ctx.loadCpu,
          logFile: join(dir, `${variant.name}-fakes.log`),
        });
  let result;
  let redis;
  try {
    const started = fakes ? await fakes.request({ type: 'start', fakes: variant.fakes, dir }, 60_000) : {};
    // Like the fakes, the redis variant's own server runs on the load core: it stands for a Redis
    // on another machine and must not take the service core (docs/performance.md, Variant runs).
    if (variant.redis) redis = await built.kit.PrivateRedis.start(await freePort(), { cpu: ctx.loadCpu });
    const prepared = variant.prepare({ fakes: started, profile, redis });
    const onLoadCore = ctx.loadCpu !== undefined;
    const upstream = [
      ...(fakes ? [{ name: 'fakes', pid: fakes.child.pid, onLoadCore }] : []),
      ...(redis ? [{ name: 'redis-server', pid: redis.pid, onLoadCore }] : []),
    ];
    const signer = await measureSigner(ctx, built, profile, dir, {
      name: variant.name,
      env: prepared.env,
      configPath: prepared.configPath,
      body: signRequestBody(profile, prepared.body),
      auditFile: join(dir, `audit-${variant.name}.jsonl`),
      upstream,
      counters: fakes && (() => fakes.request({ type: 'counters' })),
    });
    const checks = variant.checks(signer.main);
    for (const failed of checks.filter((c) => !c.ok))
      ctx.failures.push(`${variant.name}: expected ${failed.what}`);
    result = { ...signer, checks };
  } finally {
    if (fakes) await stopProcess(fakes.child);
    if (redis) await redis.stop();
  }
  return result;
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
