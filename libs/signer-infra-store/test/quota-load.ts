import { SignerError, type PlanLimits, type QuotaGate, type QuotaSubject } from '@signer/core';

/** What a quota load run saw: admissions, refusals by code (and limit), and when each happened. */
export interface QuotaLoadResult {
  admitted: number;
  /** The most leases this run's callers held at one moment. */
  maxHeld: number;
  refusals: Map<string, number>;
  /** Other failures (not a SignerError): must stay empty. */
  unexpected: unknown[];
  /** ms since the start of each outcome, for failover windows. */
  events: Array<{ atMs: number; outcome: string }>;
}

export interface QuotaLoadOptions {
  /** One gate per replica; callers alternate between them. */
  gates: QuotaGate[];
  subject: QuotaSubject;
  limits: PlanLimits;
  /** Concurrent callers. */
  workers: number;
  /** Stops the run when true (checked before every call). */
  stop: (result: QuotaLoadResult) => boolean;
  /** Pause after a refusal, as a client honouring Retry-After would (shortened). */
  pauseMs?: number;
  /** How long each admitted caller holds its lease (the signing it stands for); 2 ms by default. */
  holdMs?: number;
  /** Told the running count after every admission (a fault can wait for the load to be under way). */
  onAdmitted?: (admitted: number) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Callers that acquire, hold the lease a moment, and release it as signed, until `stop`: the
 * shape of signing traffic against one licence, for invariants under faults.
 */
export async function driveQuotaLoad(options: QuotaLoadOptions): Promise<QuotaLoadResult> {
  const result: QuotaLoadResult = {
    admitted: 0,
    maxHeld: 0,
    refusals: new Map(),
    unexpected: [],
    events: [],
  };
  const started = Date.now();
  let call = 0;
  let held = 0;
  const worker = async () => {
    while (!options.stop(result)) {
      const gate = options.gates[call++ % options.gates.length] as QuotaGate;
      try {
        const lease = await gate.acquire(options.subject, options.limits);
        result.admitted += 1;
        held += 1;
        result.maxHeld = Math.max(result.maxHeld, held);
        result.events.push({ atMs: Date.now() - started, outcome: 'admitted' });
        options.onAdmitted?.(result.admitted);
        await sleep(options.holdMs ?? 2);
        held -= 1;
        await lease.release('signed');
      } catch (error) {
        if (!(error instanceof SignerError)) {
          result.unexpected.push(error);
          return;
        }
        const code = error.code === 'plan_throttled' ? `plan_throttled:${String(error.limit)}` : error.code;
        result.refusals.set(code, (result.refusals.get(code) ?? 0) + 1);
        result.events.push({ atMs: Date.now() - started, outcome: code });
        await sleep(options.pauseMs ?? 20);
      }
    }
  };
  await Promise.all(Array.from({ length: options.workers }, worker));
  return result;
}

/** Resolves once `condition` holds (checked every 5 ms). */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}

/** Waits until `ping` succeeds (a client reconnecting after a failover), for at most `timeoutMs`. */
export async function whenAnswering(ping: () => Promise<unknown>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}
