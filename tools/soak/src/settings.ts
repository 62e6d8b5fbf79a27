import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findWorkspaceRoot } from '@signer/testing';

/** How long and how hard the soak runs; every value can be set from the environment (`SOAK_*`). */
export interface SoakSettings {
  /** The workspace (holds nx.json); material and the report go under its tmp/. */
  root: string;
  /** The service bundle (`node tools/build.mjs signer-api` output, or a private copy). */
  signerBundle: string;
  /** Total run time; the fault cycle repeats until it is used up (at least one cycle). */
  totalSeconds: number;
  /** Traffic before the first fault (warm caches, RSS/fd baseline). */
  baselineSeconds: number;
  /** How long each fault lasts (the PostgreSQL outage has its own length). */
  faultSeconds: number;
  pgOutageSeconds: number;
  /** After a fault ends, every replica must answer a 200 within this. */
  recoveryBoundSeconds: number;
  /** Quiet time after a recovery before the next fault. */
  settleSeconds: number;
  /** Tenants with ordinary (large) plans; one more tenant has the small quota plan. */
  tenants: number;
  /** Concurrent callers of the ordinary tenants. */
  workers: number;
  /** Concurrent callers of the quota tenant (more than its concurrency, to contend). */
  quotaWorkers: number;
  /** Pause of each caller between two requests. */
  thinkMs: number;
  slowClients: number;
  /** A replica's RSS may grow at most this much from its baseline. */
  rssGrowthMb: number;
  /** A replica's open descriptors may grow at most this much from its baseline. */
  fdGrowth: number;
  /**
   * `standalone` (default): one private redis-server, faulted by a restart. `cluster`: a private
   * Redis Cluster (3 masters + 3 replicas, `minReplicaAcks: 1`), faulted by killing the master of
   * the quota licence's slot (`redis-master-failover`) instead.
   */
  redis: 'standalone' | 'cluster';
  /** Where the JSON report is written (checks, phases, figures). */
  reportFile?: string;
  /** Where every exchange and audit record is written, one JSON line each (for a post-mortem). */
  ledgerFile?: string;
}

const number = (env: NodeJS.ProcessEnv, name: string, fallback: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}: expected a number ≥ 0, got ${raw}`);
  return value;
};

export function settingsFromEnv(env: NodeJS.ProcessEnv, start = process.cwd()): SoakSettings {
  const root = env['SOAK_ROOT'] ?? findWorkspaceRoot(start);
  const signerBundle = env['SOAK_SIGNER_BUNDLE'] ?? join(root, 'dist/apps/signer-api/main.js');
  if (!existsSync(signerBundle)) throw new Error(`SOAK_SIGNER_BUNDLE: ${signerBundle} does not exist`);
  const redis = env['SOAK_REDIS'] || 'standalone';
  if (redis !== 'standalone' && redis !== 'cluster')
    throw new Error(`SOAK_REDIS: expected standalone or cluster, got ${redis}`);
  return {
    root,
    signerBundle,
    redis,
    totalSeconds: number(env, 'SOAK_SECONDS', 0),
    baselineSeconds: number(env, 'SOAK_BASELINE_SECONDS', 6),
    faultSeconds: number(env, 'SOAK_FAULT_SECONDS', 6),
    pgOutageSeconds: number(env, 'SOAK_PG_OUTAGE_SECONDS', 10),
    recoveryBoundSeconds: number(env, 'SOAK_RECOVERY_BOUND_SECONDS', 10),
    settleSeconds: number(env, 'SOAK_SETTLE_SECONDS', 1),
    tenants: Math.max(2, number(env, 'SOAK_TENANTS', 3)),
    workers: Math.max(1, number(env, 'SOAK_WORKERS', 6)),
    quotaWorkers: Math.max(1, number(env, 'SOAK_QUOTA_WORKERS', 4)),
    thinkMs: number(env, 'SOAK_THINK_MS', 40),
    slowClients: number(env, 'SOAK_SLOW_CLIENTS', 24),
    rssGrowthMb: number(env, 'SOAK_RSS_GROWTH_MB', 150),
    fdGrowth: number(env, 'SOAK_FD_GROWTH', 40),
    reportFile: env['SOAK_REPORT'] || undefined,
    ledgerFile: env['SOAK_LEDGER'] || undefined,
  };
}
