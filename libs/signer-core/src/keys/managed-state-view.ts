import { performance } from 'node:perf_hooks';
import { SignerError } from '../errors';
import type { ManagedState, ManagedStateStore } from './managed-state';

export const DEFAULT_STATE_REFRESH_INTERVAL_MS = 1000;
export const DEFAULT_STATE_MAX_STALENESS_MS = 5000;

export interface ManagedStateViewOptions {
  store: ManagedStateStore;
  refreshIntervalMs?: number;
  maxStalenessMs?: number;
  /** Monotonic milliseconds (tests pin it); freshness never depends on the wall clock. */
  monotonicMs?: () => number;
}

export interface StateFreshness {
  version: number;
  /** Milliseconds since the start of the last successful load (or own commit). */
  ageMs: number;
  stale: boolean;
  maxStalenessMs: number;
  /** Why the last refresh failed, when it did. */
  lastError?: string;
}

type Listener = (state: ManagedState, previous: ManagedState) => void;

/**
 * One replica's view of the managed state (contract §11). It reloads the store every
 * `refreshIntervalMs`, and `current()` refuses (`upstream_unavailable`, upstream `state`) once the
 * last successful load *started* more than `maxStalenessMs` ago. A load that started after a
 * change committed sees it, so from `commit + maxStalenessMs` on, every replica either knows the
 * change or refuses to sign: that is the bound.
 */
export class ManagedStateView {
  private state: ManagedState;
  private freshAt: number;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private readonly listeners: Listener[] = [];
  private readonly now: () => number;
  readonly refreshIntervalMs: number;
  readonly maxStalenessMs: number;

  private constructor(
    private readonly store: ManagedStateStore,
    initial: ManagedState,
    startedAt: number,
    options: ManagedStateViewOptions,
  ) {
    this.state = initial;
    this.freshAt = startedAt;
    this.now = options.monotonicMs ?? (() => performance.now());
    this.refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_STATE_REFRESH_INTERVAL_MS;
    this.maxStalenessMs = options.maxStalenessMs ?? DEFAULT_STATE_MAX_STALENESS_MS;
  }

  /** Loads once (a store without a state is a start-up error: seed it first) and starts refreshing. */
  static async open(options: ManagedStateViewOptions): Promise<ManagedStateView> {
    const now = options.monotonicMs ?? (() => performance.now());
    const startedAt = now();
    const initial = await options.store.load();
    if (!initial)
      throw new SignerError('internal_error', 'the managed state store holds no state (not seeded)');
    const view = new ManagedStateView(options.store, initial, startedAt, options);
    view.timer = setInterval(() => void view.refresh(), view.refreshIntervalMs);
    view.timer.unref();
    return view;
  }

  /** The state to sign by; refuses when it may be older than the bound. */
  current(): ManagedState {
    const age = this.now() - this.freshAt;
    if (age > this.maxStalenessMs) {
      throw new SignerError(
        'upstream_unavailable',
        `managed state not refreshed for ${Math.round(age)} ms (bound ${this.maxStalenessMs} ms)`,
        { upstream: 'state', retryAfterSeconds: 1 },
      );
    }
    return this.state;
  }

  /** The last known state, however old: for publishing (`/keys`), never for a signing decision. */
  snapshot(): ManagedState {
    return this.state;
  }

  freshness(): StateFreshness {
    const ageMs = this.now() - this.freshAt;
    return {
      version: this.state.version,
      ageMs,
      stale: ageMs > this.maxStalenessMs,
      maxStalenessMs: this.maxStalenessMs,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** Reloads now; concurrent calls share one load. Failures are kept for `freshness()`, never thrown. */
  refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** This replica's own committed change, applied without waiting for the next refresh. */
  accept(committed: ManagedState): void {
    this.freshAt = Math.max(this.freshAt, this.now());
    this.replace(committed);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async load(): Promise<void> {
    const startedAt = this.now();
    try {
      const loaded = await this.store.load();
      if (!loaded) throw new Error('the managed state store holds no state');
      this.freshAt = Math.max(this.freshAt, startedAt);
      this.lastError = undefined;
      this.replace(loaded);
    } catch (error) {
      this.lastError = error instanceof Error ? error.message : String(error);
    }
  }

  // Versions only move forward: an older read (one that started before our own commit) is ignored.
  private replace(next: ManagedState): void {
    if (next.version <= this.state.version) return;
    const previous = this.state;
    this.state = next;
    for (const listener of this.listeners) {
      try {
        listener(next, previous);
      } catch {
        // A listener (metrics, cache warm-up) must not stop the view from moving on.
      }
    }
  }
}
