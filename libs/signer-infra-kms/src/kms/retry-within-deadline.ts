/** Total time one signature may spend on a remote signer, retries included. */
export const DEFAULT_SIGN_DEADLINE_MS = 3000;
export const DEFAULT_RETRY_BASE_DELAY_MS = 25;
export const DEFAULT_RETRY_MAX_DELAY_MS = 400;
/** Time a readiness probe of a remote signer may take. */
export const DEFAULT_PROBE_TIMEOUT_MS = 2000;

export interface RetryOptions {
  deadlineMs: number;
  /** Whether a failure is transient (throttling, 5xx, network) and worth another attempt. */
  isRetryable(error: unknown): boolean;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Monotonic milliseconds; tests may pin it. */
  nowMs?: () => number;
}

/** What an attempt may use: the time left until the deadline, for its own request timeout. */
export interface Attempt {
  remainingMs(): number;
  number: number;
}

/** Raised when the deadline passes while the failures were still transient; `cause` is the last one. */
export class DeadlineExceededError extends Error {
  constructor(
    readonly attempts: number,
    options: { cause: unknown },
  ) {
    super(`gave up after ${attempts} attempt(s): deadline exceeded`, options);
    this.name = 'DeadlineExceededError';
  }
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it succeeds, a failure is not retryable (rethrown as is), or the next
 * try would start past the deadline ({@link DeadlineExceededError}). Backoff is exponential with
 * "equal jitter" so replicas throttled together do not retry together.
 */
export async function retryWithinDeadline<T>(
  attempt: (context: Attempt) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const nowMs = options.nowMs ?? (() => performance.now());
  const sleep = options.sleep ?? defaultSleep;
  const base = options.baseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
  const cap = options.maxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS;
  const deadline = nowMs() + options.deadlineMs;
  // Whole milliseconds: AbortSignal.timeout and timers want integers.
  const remainingMs = () => Math.max(0, Math.floor(deadline - nowMs()));
  for (let number = 1; ; number++) {
    try {
      return await attempt({ remainingMs, number });
    } catch (error) {
      if (!options.isRetryable(error)) throw error;
      const ceiling = Math.min(cap, base * 2 ** (number - 1));
      const delay = ceiling / 2 + Math.random() * (ceiling / 2);
      if (remainingMs() <= delay) throw new DeadlineExceededError(number, { cause: error });
      await sleep(delay);
    }
  }
}
