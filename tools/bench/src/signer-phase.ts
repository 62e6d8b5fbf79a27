// The Signer under load (the base run, and each variant run with its changes); afterwards its
// audit trail is checked against every 200 received.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DevAuthority } from '@signer/dev';
import { freePort } from '@signer/testing';
import { difference, settledCounters } from './counters';
import { drive, requireClean, type Upstream } from './drive';
import { dpopProofFactory, generateDpopKey, jwkThumbprint, type DpopCaller } from './dpop';
import { startNode, stopProcess, waitUntil } from './processes';
import type { BenchContext } from './settings';
import type { AuditCheck, DrivenRun, ServiceCounters, SignerRun, UpstreamCounters } from './types';
import { checkAuditTrail, signRequestBody, type BenchProfile } from './workspace';

export const SIGN_PATH = '/api/v1/signer/sign/dsse';
/** Pool size over the warm-up rate, which a cold JIT and proofs made inside the window understate. */
const POOL_HEADROOM = 3;
const POOL_MINIMUM = 2000;
export const READY_TIMEOUT_MS = 30_000;

/** What makes a signer run a variant run; every field defaults to the base run's. */
export interface SignerRunOptions {
  name?: string;
  env?: Record<string, string>;
  configPath?: string;
  body?: string;
  auditFile?: string;
  upstream?: Upstream[];
  /** The fakes' request counters, read just before and just after the window. */
  counters?: () => Promise<UpstreamCounters>;
  /** Checks a trail that is not the audit file (a PostgreSQL trail), after the service stopped. */
  checkAudit?: (acknowledgedIds: readonly string[], maxUnacknowledged: number) => Promise<AuditCheck>;
}

export interface SignerMeasurement {
  main: SignerRun;
  warmup: DrivenRun;
  audit: AuditCheck;
  /** The enrolled caller, past the nonce dance: the floors make their proofs with it. */
  caller: DpopCaller;
  /** The envelope of the first signing: floor (b) signs its PAE bytes. */
  envelope: { payloadType: string; payload: string };
  body: string;
}

/** Quotas out of the way (the bench measures signing, not throttling); logs at warn. */
function signerEnv(configPath: string, origin: string, port: number): NodeJS.ProcessEnv {
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

export const post = (url: string, headers: Record<string, string>, body: string): Promise<Response> =>
  fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });

interface SignResponse {
  auditId: string;
  bundle: { dsse: { payloadType: string; payload: string } };
}

/** A DPoP-bound caller with a fresh key and OpTok, past the nonce dance; checks one signing works. */
async function enrol(profile: BenchProfile, url: string, body: string) {
  const privateJwk = generateDpopKey();
  const authority = await DevAuthority.fromPrivateJwk(profile.authorityPrivateJwk);
  const accessToken = await authority.mint({
    tenant: profile.tenant,
    installation: profile.installation,
    jkt: jwkThumbprint(privateJwk),
    lifetimeSeconds: 3600,
  });
  const headers = { 'content-type': 'application/json', authorization: `DPoP ${accessToken}` };
  const caller: DpopCaller = { privateJwk, accessToken, method: 'POST', url };
  // RFC 9449 §8, once: a proof without a nonce earns 401 + DPoP-Nonce; the nonce then serves the run.
  const refused = await post(url, { ...headers, dpop: dpopProofFactory(caller).proof() }, body);
  const nonce = refused.headers.get('dpop-nonce');
  if (refused.status !== 401 || !nonce)
    throw new Error(`expected 401 with DPoP-Nonce, got ${refused.status}`);
  const first = await post(url, { ...headers, dpop: dpopProofFactory({ ...caller, nonce }).proof() }, body);
  if (first.status !== 200)
    throw new Error(`first signing: expected 200, got ${first.status} ${await first.text()}`);
  return { caller: { ...caller, nonce }, first: (await first.json()) as SignResponse };
}

/**
 * The Signer under load: a warm-up, then the measured window. The service's counters
 * (`/metrics`) and the fakes' are read just before and just after the window.
 */
export async function measureSigner(
  ctx: BenchContext,
  profile: BenchProfile,
  work: string,
  run: SignerRunOptions = {},
): Promise<SignerMeasurement> {
  const name = run.name ?? 'signer';
  const auditFile = run.auditFile ?? profile.auditFile;
  const counters = run.counters ?? (async (): Promise<UpstreamCounters> => ({}));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const logFile = join(work, `${name}.log`);
  const flags = ctx.settings.cpuProfile
    ? ['--cpu-prof', `--cpu-prof-dir=${join(ctx.root, 'tmp/bench/profiles')}`]
    : [];
  const env = {
    ...signerEnv(run.configPath ?? profile.configPath, origin, port),
    ...run.env,
    ...(run.auditFile ? { SIGNER__AUDIT__FILEPATH: run.auditFile } : {}),
  };
  const child = startNode({ args: [...flags, ctx.signerBundle], env, cpu: ctx.serviceCpu, logFile });
  const body = run.body ?? signRequestBody(profile);
  const runs: (DrivenRun & { auditIds: string[] })[] = [];
  let enrolled: Awaited<ReturnType<typeof enrol>>;
  let before: { service: ServiceCounters; upstream: UpstreamCounters };
  let after: typeof before;
  try {
    const ready = async () => (await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(2000) })).ok;
    await waitUntil(`${name} /readyz`, ready, { timeoutMs: READY_TIMEOUT_MS, child });
    enrolled = await enrol(profile, `${origin}${SIGN_PATH}`, body);
    const job = { ...enrolled.caller, origin, path: SIGN_PATH, body, connections: ctx.settings.connections };
    const warmupJob = { ...job, collectAuditIds: true, seconds: ctx.settings.warmupSeconds };
    const warmup = await drive(
      ctx,
      { ...warmupJob, pool: { size: 0, unique: true } },
      child.pid ?? 0,
      run.upstream,
    );
    runs.push(warmup);
    requireClean(ctx, `${name} warm-up`, warmup);
    const expectedRps = Math.max(100, warmup.rps);
    const size = Math.ceil(expectedRps * ctx.settings.seconds * POOL_HEADROOM) + POOL_MINIMUM;
    before = { service: await settledCounters(origin), upstream: await counters() };
    const measuredJob = {
      ...job,
      collectAuditIds: true,
      seconds: ctx.settings.seconds,
      pool: { size, unique: true },
    };
    const measured = await drive(ctx, measuredJob, child.pid ?? 0, run.upstream);
    runs.push(measured);
    after = { service: await settledCounters(origin), upstream: await counters() };
    requireClean(ctx, name, measured);
  } catch (error) {
    process.stderr.write(`--- ${name} log (tail) ---\n${readFileSync(logFile, 'utf8').slice(-4000)}\n`);
    throw error;
  } finally {
    await stopProcess(child);
  }
  const received = [enrolled.first.auditId, ...runs.flatMap((r) => r.auditIds)];
  const maxUnacknowledged = runs.length * ctx.settings.connections;
  const audit = run.checkAudit
    ? await run.checkAudit(received, maxUnacknowledged)
    : await checkAuditTrail(auditFile, received, maxUnacknowledged);
  for (const problem of audit.problems) ctx.failures.push(`${name} audit trail: ${problem}`);
  const [warmup, main] = runs.map(({ auditIds: _ids, ...r }) => r);
  if (warmup === undefined || main === undefined)
    throw new Error(`${name}: expected two runs, got ${runs.length}`);
  const window = difference(after.service, before.service);
  const optokHits = window.cacheHits['optok'] ?? 0;
  return {
    main: {
      ...main,
      // The verified-token cache over the window. The service counts hits only; every other
      // decision verified its OpTok (or joined a verification of the same token in flight).
      window: { ...window, tokenCache: { hits: optokHits, notFromCache: window.requests - optokHits } },
      upstream: { window: difference(after.upstream, before.upstream), total: after.upstream },
    },
    warmup,
    audit,
    caller: enrolled.caller,
    envelope: enrolled.first.bundle.dsse,
    body,
  };
}
