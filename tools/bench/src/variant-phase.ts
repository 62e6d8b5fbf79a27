// One variant run: its fakes (if any) in their own process on the load core, the signer with the
// variant's settings, then the variant's checks on the counters.
import { join } from 'node:path';
import { createThrowawayDatabase, PrivateRedis, freePort, type ThrowawayDatabase } from '@signer/testing';
import type { Upstream } from './drive';
import type { FakesRequest, StartedFakes } from './fakes';
import { startIpcNode, stopProcess, type IpcNode } from './processes';
import type { BenchContext } from './settings';
import { measureSigner, type SignerMeasurement } from './signer-phase';
import type { Check, UpstreamCounters } from './types';
import { countAuditRecords, readPostgresCounters, readRedisCounters } from './upstream-stats';
import type { Variant } from './variants';
import { checkPostgresAuditTrail, signRequestBody, type BenchProfile } from './workspace';

const FAKES_START_TIMEOUT_MS = 60_000;

const ask = <R>(fakes: IpcNode, request: FakesRequest, timeoutMs?: number) =>
  fakes.request<R>(request, timeoutMs);

export async function measureVariant(
  ctx: BenchContext,
  profile: BenchProfile,
  dir: string,
  variant: Variant,
): Promise<SignerMeasurement & { checks: Check[] }> {
  const fakes =
    variant.fakes.length === 0
      ? undefined
      : startIpcNode({
          role: 'fakes',
          args: [],
          cpu: ctx.loadCpu,
          logFile: join(dir, `${variant.name}-fakes.log`),
        });
  let redis: PrivateRedis | undefined;
  let database: ThrowawayDatabase | undefined;
  try {
    const started = fakes
      ? await ask<StartedFakes>(fakes, { type: 'start', fakes: variant.fakes, dir }, FAKES_START_TIMEOUT_MS)
      : {};
    // Like the fakes, the redis variant's own server runs on the load core: it stands for a Redis
    // on another machine and must not take the service core (docs/performance.md, Variant runs).
    if (variant.redis) redis = await PrivateRedis.start(await freePort(), { cpu: ctx.loadCpu });
    if (variant.postgres) database = await createThrowawayDatabase('signer_bench_audit');
    const prepared = variant.prepare({ fakes: started, profile, redis, postgres: database });
    const onLoadCore = ctx.loadCpu !== undefined;
    const upstream: Upstream[] = [
      ...(fakes?.child.pid ? [{ name: 'fakes', pid: fakes.child.pid, onLoadCore }] : []),
      ...(redis?.pid ? [{ name: 'redis-server', pid: redis.pid, onLoadCore }] : []),
    ];
    const signer = await measureSigner(ctx, profile, dir, {
      name: variant.name,
      env: prepared.env,
      configPath: prepared.configPath,
      body: signRequestBody(profile, prepared.body),
      auditFile: join(dir, `audit-${variant.name}.jsonl`),
      upstream,
      counters: async () => ({
        ...(fakes ? await ask<UpstreamCounters>(fakes, { type: 'counters' }) : {}),
        ...(redis ? await readRedisCounters(redis.url) : {}),
        ...(database ? await readPostgresCounters(database.name) : {}),
      }),
      ...(database ? { checkAudit: checkPostgresAuditTrail.bind(undefined, database.url) } : {}),
    });
    if (database) {
      // Rows per commit over the whole run, once the stopped service's backends reported their
      // counters (PostgreSQL publishes a backend's counters at its exit at the latest).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const total = signer.main.upstream.total;
      total.auditRecords = await countAuditRecords(database.url);
      total.auditCommits = (await readPostgresCounters(database.name)).auditCommits;
    }
    const checks = variant.checks(signer.main);
    for (const failed of checks.filter((c) => !c.ok))
      ctx.failures.push(`${variant.name}: expected ${failed.what}`);
    return { ...signer, checks };
  } finally {
    if (fakes) await stopProcess(fakes.child);
    if (redis) await redis.stop();
    if (database) await database.drop();
  }
}
