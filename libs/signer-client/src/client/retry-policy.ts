import { parseRetryAfter } from './client-errors';
import { problemOf, type HttpAnswer } from './http-transport';

/**
 * How {@link SignerClient} retries `429` and `503` (contract §2.4: "retry after `Retry-After`").
 * Each field is optional; a missing one takes its value from {@link DEFAULT_RETRY_OPTIONS}.
 */
export interface RetryOptions {
  /** Attempts per call, the first included; `1` turns retries off. */
  maxAttempts?: number;
  /**
   * Upper bound on the time spent waiting between the attempts of one call. A `Retry-After` that
   * does not fit in what is left ends the retries at once (waiting less would only be refused
   * again): the call rejects with that answer's error, `retryAfterSeconds` included.
   */
  maxTotalWaitMs?: number;
  /** Without `Retry-After`: full-jitter backoff, a random wait in [0, base · 2^(n−1)], ... */
  baseDelayMs?: number;
  /** ... capped at this. */
  maxDelayMs?: number;
}

export const DEFAULT_RETRY_OPTIONS: Readonly<Required<RetryOptions>> = {
  maxAttempts: 4,
  maxTotalWaitMs: 30_000,
  baseDelayMs: 250,
  maxDelayMs: 5_000,
};

/** The statuses a retry may cure: a quota that refills, an upstream that comes back. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** Waits `ms`; injectable so tests assert the waits without spending them. */
export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RetryClock {
  sleep: Sleep;
  /** Epoch milliseconds, for a `Retry-After` given as an HTTP-date. */
  now: () => number;
  /** In [0, 1), for the jitter. */
  random: () => number;
}

/**
 * One call's retry budget. `nextDelayMs` answers how long to wait before the next attempt, or
 * `undefined` when the answer is final or the budget (attempts, total wait) is spent.
 */
export class RetryBudget {
  private readonly options: Required<RetryOptions>;
  private attempts = 1;
  private waitedMs = 0;

  constructor(
    options: RetryOptions,
    private readonly clock: RetryClock,
  ) {
    this.options = { ...DEFAULT_RETRY_OPTIONS, ...options };
  }

  /** Attempts made so far, the first included. */
  get attemptsMade(): number {
    return this.attempts;
  }

  nextDelayMs(answer: HttpAnswer): number | undefined {
    if (!RETRYABLE_STATUSES.has(answer.status) || this.attempts >= this.options.maxAttempts) return undefined;
    const retryAfter = parseRetryAfter(answer.headers.get('retry-after'), this.clock.now());
    const delay =
      retryAfter === undefined
        ? Math.floor(
            this.clock.random() *
              Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (this.attempts - 1)),
          )
        : retryAfter * 1000;
    if (this.waitedMs + delay > this.options.maxTotalWaitMs) return undefined;
    return delay;
  }

  /** Waits `delayMs` and counts the attempt that follows. */
  async wait(delayMs: number): Promise<void> {
    this.waitedMs += delayMs;
    this.attempts += 1;
    await this.clock.sleep(delayMs);
  }
}

/** Told before each wait, so a caller can log it (the answer's code, never the request). */
export interface RetryEvent {
  /** The attempt that was just answered (1 for the first). */
  attempt: number;
  status: number;
  /** The problem's `code`, when the answer was a Signer problem. */
  code?: string;
  delayMs: number;
}

/** The retry settings of a client or a call, as given by the caller. */
export interface RetrySettings {
  /** `false` sends each request once (`maxAttempts: 1`). */
  retry?: RetryOptions | false;
  /** Replaces the real sleep, clock and randomness (tests). */
  clock?: Partial<RetryClock>;
  onRetry?: (event: RetryEvent) => void;
}

/** One request of a call: a fresh one each time (a new DPoP proof, the current nonce). */
export type SendOnce = () => Promise<HttpAnswer>;

/**
 * Sends until the answer is final or the budget is spent. `nonceChallenge` marks an answer that is
 * retried at once, outside the budget, and only once in a row (a new nonce, RFC 9449 §8).
 */
export async function sendWithRetries(
  send: SendOnce,
  settings: RetrySettings,
  nonceChallenge: (answer: HttpAnswer) => boolean = () => false,
): Promise<{ answer: HttpAnswer; attempts: number }> {
  const clock: RetryClock = { sleep: realSleep, now: Date.now, random: Math.random, ...settings.clock };
  const budget = new RetryBudget(
    settings.retry === false ? { maxAttempts: 1 } : (settings.retry ?? {}),
    clock,
  );
  let attempts = 0;
  let nonceRetried = false;
  for (;;) {
    const answer = await send();
    attempts += 1;
    if (!nonceRetried && nonceChallenge(answer)) {
      nonceRetried = true;
      continue;
    }
    const delayMs = budget.nextDelayMs(answer);
    if (delayMs === undefined) return { answer, attempts };
    settings.onRetry?.({ attempt: attempts, status: answer.status, code: problemOf(answer)?.code, delayMs });
    await budget.wait(delayMs);
    nonceRetried = false;
  }
}

/** Whether `settings` allow a second attempt: then a sign call needs an Idempotency-Key. */
export function retriesEnabled(settings: RetrySettings): boolean {
  if (settings.retry === false) return false;
  return (settings.retry?.maxAttempts ?? DEFAULT_RETRY_OPTIONS.maxAttempts) > 1;
}
