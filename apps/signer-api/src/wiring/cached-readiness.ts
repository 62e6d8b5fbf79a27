import type { Clock } from '@signer/core';
import type { ReadinessCheck } from './readiness';

/** How long one dependency may take to answer before it counts as unavailable. */
export const READINESS_CHECK_TIMEOUT_MS = 2000;

export type DependencyState = 'ok' | 'unavailable';

/** One round of checks: the public answer is `ready` only; the map is for operators. */
export interface ReadinessReport {
  ready: boolean;
  checkedAt: Date;
  dependencies: Record<string, DependencyState>;
  /** Operator detail taken with the round (state freshness, keys near expiry): admin listener only. */
  details?: Record<string, unknown>;
}

export interface CachedReadinessOptions {
  checks: readonly ReadinessCheck[];
  clock: Clock;
  /** A finished round answers every caller for this long; 0 = only concurrent callers share a round. */
  cacheMs: number;
  timeoutMs?: number;
  /** Detail read (never awaited, never able to fail readiness) at the end of each round. */
  details?: () => Record<string, unknown>;
}

/**
 * Readiness at a bounded cost, whoever asks and however often (`/readyz` is unauthenticated).
 * A round's answer is reused for `cacheMs`; while a round runs, every caller waits for that one
 * (single flight); and a dependency whose previous check has not settled yet (a hung KMS or
 * registry) is not called again: the new round waits on the same call, up to the timeout. So a
 * flood costs each dependency at most one call per `cacheMs + timeoutMs`, and never two at once.
 */
export class CachedReadiness {
  private readonly checks: readonly ReadinessCheck[];
  private readonly clock: Clock;
  private readonly cacheMs: number;
  private readonly timeoutMs: number;
  private readonly details?: () => Record<string, unknown>;
  private last?: ReadinessReport;
  private round?: Promise<ReadinessReport>;
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(options: CachedReadinessOptions) {
    this.checks = options.checks;
    this.clock = options.clock;
    this.cacheMs = options.cacheMs;
    this.timeoutMs = options.timeoutMs ?? READINESS_CHECK_TIMEOUT_MS;
    this.details = options.details;
  }

  /** The configured dependencies, by name. */
  get names(): string[] {
    return this.checks.map((check) => check.name);
  }

  /** The cached report while it is fresh; otherwise the running round, or a new one. */
  report(): Promise<ReadinessReport> {
    const last = this.last;
    if (last && this.clock.now().getTime() - last.checkedAt.getTime() < this.cacheMs) {
      return Promise.resolve(last);
    }
    this.round ??= this.runRound().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  private async runRound(): Promise<ReadinessReport> {
    const states = await Promise.all(this.checks.map((check) => this.probe(check)));
    const dependencies = Object.fromEntries(this.checks.map((check, i) => [check.name, states[i]]));
    this.last = {
      ready: states.every((state) => state === 'ok'),
      checkedAt: this.clock.now(),
      dependencies,
      ...(this.details ? { details: this.details() } : {}),
    };
    return this.last;
  }

  private async probe({ name, check }: ReadinessCheck): Promise<DependencyState> {
    let call = this.inFlight.get(name);
    if (!call) {
      call = Promise.resolve()
        .then(check)
        .finally(() => this.inFlight.delete(name));
      this.inFlight.set(name, call);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('readiness check timed out')), this.timeoutMs);
      timer.unref();
    });
    try {
      await Promise.race([call, timeout]);
      return 'ok';
    } catch {
      return 'unavailable';
    } finally {
      clearTimeout(timer);
    }
  }
}
