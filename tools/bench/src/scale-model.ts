// The scale-out model the bench prints after the variant runs (docs/performance.md, "Scale-out
// model"): from a replica's measured signing rate and the shared services' measured cost per
// request, how many replicas (one core each) one Redis core and one PostgreSQL core serve before
// they saturate. Pure: a variant run's figures in, the model and its inputs out.
import { int } from './format';
import type { MeasuredVariant, VariantSummary } from './types';

export interface RedisModel {
  commandsPerRequest: number;
  /** Socket reads per request: a lower bound on round trips (concurrent commands may share a read). */
  readsPerRequest: number;
  /** redis-server CPU per command (µs), from /proc over the window. */
  cpuUsPerCommand: number;
  /** Commands per second one Redis core sustains at that cost. */
  opsPerCore: number;
  replicas: number;
}

export interface PostgresModel {
  /** The audit database's backend CPU per record (ms), over the window. */
  cpuMsPerRecord: number;
  recordsPerCore: number;
  /** Audit rows per committed transaction, over the whole run. */
  rowsPerCommit: number;
  replicas: number;
}

export interface ScaleModel {
  variant: string;
  round: number;
  /** Signed requests per second of one replica on one core (the variant run's). */
  replicaRps: number;
  signed: number;
  redis?: RedisModel;
  postgres?: PostgresModel;
}

/** The model of one variant run, when it measured Redis or a PostgreSQL trail; undefined otherwise. */
export function scaleModel(v: MeasuredVariant): ScaleModel | undefined {
  const { window, total } = v.signer.upstream;
  const signed = v.signer.window.signed;
  const replicaRps = v.signer.rps;
  if (signed <= 0 || replicaRps <= 0) return undefined;
  const model: ScaleModel = { variant: v.name, round: v.round, replicaRps, signed };
  const redisCpuMsPerRequest = v.signer.upstreamCpuMsPerRequest?.['redis-server'];
  if (window.redisCommands !== undefined && window.redisCommands > 0 && redisCpuMsPerRequest !== undefined) {
    const commandsPerRequest = window.redisCommands / signed;
    const cpuUsPerCommand = (redisCpuMsPerRequest * 1000) / commandsPerRequest;
    const opsPerCore = cpuUsPerCommand > 0 ? 1_000_000 / cpuUsPerCommand : Infinity;
    model.redis = {
      commandsPerRequest,
      readsPerRequest: (window.redisReads ?? 0) / signed,
      cpuUsPerCommand,
      opsPerCore,
      replicas: opsPerCore / (commandsPerRequest * replicaRps),
    };
  }
  if (window.postgresCpuMs !== undefined && window.postgresCpuMs > 0) {
    const cpuMsPerRecord = window.postgresCpuMs / signed;
    const recordsPerCore = 1000 / cpuMsPerRecord;
    model.postgres = {
      cpuMsPerRecord,
      recordsPerCore,
      rowsPerCommit: total.auditCommits ? (total.auditRecords ?? 0) / total.auditCommits : 0,
      replicas: recordsPerCore / replicaRps,
    };
  }
  return model.redis || model.postgres ? model : undefined;
}

export function scaleLines(variants: readonly VariantSummary[]): string[] {
  const models = variants.flatMap((v) => (v.error === undefined ? (scaleModel(v) ?? []) : []));
  if (models.length === 0) return [];
  return [
    '',
    '  scale-out model: replicas of this one (one core each, at its measured bundles/s) that one core of a shared',
    '  service serves before it saturates = what the core sustains ÷ what the replicas ask of it (inputs measured in',
    '  the variant run; the Redis and PostgreSQL processes are on this machine, so a dedicated host scales them by cores):',
    '',
    ...models.flatMap((m) => [
      `    ${m.variant} (round ${m.round}): one replica signs ${int(m.replicaRps)}/s`,
      ...(m.redis
        ? [
            `      Redis: ${m.redis.commandsPerRequest.toFixed(2)} commands and ${m.redis.readsPerRequest.toFixed(2)} socket reads (at most the round trips: concurrent requests share reads) per signed request; ` +
              `redis-server ${m.redis.cpuUsPerCommand.toFixed(1)} µs CPU per command → ${int(m.redis.opsPerCore)} commands/s per core ` +
              `→ saturates at ${m.redis.replicas.toFixed(1)} replicas (${int(m.redis.opsPerCore)} ÷ (${m.redis.commandsPerRequest.toFixed(2)} × ${int(m.replicaRps)}))`,
          ]
        : []),
      ...(m.postgres
        ? [
            `      PostgreSQL audit: ${m.postgres.rowsPerCommit.toFixed(1)} rows per commit (whole run); backends ${m.postgres.cpuMsPerRecord.toFixed(3)} ms CPU per record ` +
              `→ ${int(m.postgres.recordsPerCore)} records/s per core → saturates at ${m.postgres.replicas.toFixed(1)} replicas per PostgreSQL core ` +
              `(${int(m.postgres.recordsPerCore)} ÷ ${int(m.replicaRps)})`,
          ]
        : []),
    ]),
  ];
}
