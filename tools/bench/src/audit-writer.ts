// The audit bench's writer process (role `audit-writer`): opens `writers` PostgresAuditSink
// instances, each with a pool of its own, as that many Signer replicas would, and appends records
// from `inFlight` lanes per sink until the window ends. Each lane waits for its append before the
// next, like a request waiting for its audit row before it answers 200.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { AuditRecord } from '@signer/core';
import { PostgresAuditSink } from '@signer/infra-store';
import { emptyHistogram, record } from './latency-histogram';

export interface AuditWriterJob {
  /** The private database, as its owner (the schema is already migrated). */
  url: string;
  writers: number;
  inFlight: number;
  poolSize: number;
  /** Epoch ms at which every process starts appending (they share the machine's clock). */
  startAt: number;
  warmupMs: number;
  windowMs: number;
}

export interface AuditWriterResult {
  /** Appends acknowledged inside the window. */
  appended: number;
  failed: number;
  firstError?: string;
  /** Latency of the appends acknowledged inside the window (latency-histogram.ts buckets). */
  histogram: number[];
  /** How late this process was ready after `startAt` (ms; 0 when on time). */
  lateMs: number;
  /** CPU this process used over the window (ms): chaining, hashing, the pg protocol. */
  cpuMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A record shaped like a signing's (same fields, same size class, ~900 bytes chained). */
function signedRecord(writer: number): AuditRecord {
  const hex = () => randomUUID().replaceAll('-', '').repeat(2);
  return {
    auditId: randomUUID(),
    time: new Date().toISOString(),
    correlationId: randomUUID(),
    route: '/api/v1/signer/sign/dsse',
    outcome: 'signed',
    tenant: `tenant-${writer % 7}`,
    installation: 'installation-bench',
    caller: { sub: 'scanner-bench', clientId: 'scanner', tokenJti: randomUUID() },
    binding: { kind: 'dpop', thumbprint: 'bmZ0aHVtYnByaW50LWJlbmNoLWZvci10aGUtYXVkaXQ' },
    licenseId: 'lic-bench',
    plan: 'pro',
    predicateType: 'https://slsa.dev/provenance/v1',
    subjectDigests: [`sha256:${hex()}`],
    scannerImageDigest: `sha256:${hex()}`,
    gates: { optok: 'pass', binding: 'pass', poe: 'pass', release: 'pass', quota: 'pass', sign: 'pass' },
    mode: 'kms',
    keyId: 'default',
    bundleSha256: hex(),
    latencyMs: 3,
  };
}

export async function runAuditWriters(job: AuditWriterJob): Promise<AuditWriterResult> {
  const sinks = await Promise.all(
    Array.from({ length: job.writers }, () =>
      PostgresAuditSink.open({ connectionString: job.url, poolSize: job.poolSize }),
    ),
  );
  const result: AuditWriterResult = {
    appended: 0,
    failed: 0,
    histogram: emptyHistogram(),
    lateMs: 0,
    cpuMs: 0,
  };
  try {
    result.lateMs = Math.max(0, Date.now() - job.startAt);
    await sleep(job.startAt - Date.now());
    // performance.now() from here on: the window in the process's monotonic clock.
    const windowStart = performance.now() + Math.max(0, job.warmupMs - result.lateMs);
    const windowEnd = windowStart + job.windowMs;
    const cpuMs = () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    };
    let cpuAtStart = 0;
    const cpuTimers = [
      setTimeout(() => (cpuAtStart = cpuMs()), windowStart - performance.now()),
      setTimeout(() => (result.cpuMs = cpuMs() - cpuAtStart), windowEnd - performance.now()),
    ];
    const lane = async (sink: PostgresAuditSink, writer: number) => {
      while (performance.now() < windowEnd) {
        const began = performance.now();
        try {
          await sink.append(signedRecord(writer));
        } catch (error) {
          result.failed += 1;
          result.firstError ??= error instanceof Error ? error.message : String(error);
          await sleep(10);
          continue;
        }
        const done = performance.now();
        if (done >= windowStart && done < windowEnd) {
          result.appended += 1;
          record(result.histogram, done - began);
        }
      }
    };
    try {
      await Promise.all(
        sinks.flatMap((sink, writer) => Array.from({ length: job.inFlight }, () => lane(sink, writer))),
      );
    } finally {
      cpuTimers.forEach(clearTimeout);
    }
  } finally {
    await Promise.all(sinks.map((sink) => sink.close()));
  }
  return result;
}
