import { requirePositiveInteger } from '../options';

/** How long a batch may wait for company under concurrent load (see {@link GroupCommit}). */
export const DEFAULT_AUDIT_BATCH_DELAY_MS = 2;
/** Longer waits would add visible latency to every signing for little gain. */
export const MAX_AUDIT_BATCH_DELAY_MS = 50;

export interface GroupCommitOptions<T> {
  /** Largest batch handed to `commit` at once. */
  maxBatch: number;
  /**
   * When the previous batch held more than one entry (requests are arriving concurrently), the
   * next batch waits up to this long for more entries before it is committed: the commit's fixed
   * cost (a write + `fdatasync`, or a PostgreSQL transaction) is then shared by more requests. A
   * lone entry is committed at once. 0 turns the wait off.
   */
  maxDelayMs: number;
  /** Commits one batch; settles every entry of it (resolve or reject) before it resolves. */
  commit(batch: T[]): Promise<void>;
}

export function requireBatchDelayMs(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_AUDIT_BATCH_DELAY_MS) {
    throw new RangeError(
      `batchDelayMs: expected an integer in [0, ${MAX_AUDIT_BATCH_DELAY_MS}], got ${String(value)}`,
    );
  }
  return value;
}

/**
 * The group-commit loop both audit sinks share: entries queue while a commit is in flight and
 * are committed together in the next one, so durability costs one commit per batch rather than
 * one per request. One commit runs at a time, in arrival order.
 */
export class GroupCommit<T> {
  private readonly queue: T[] = [];
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private writer: Promise<void> | undefined;
  private lastBatchSize = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly options: GroupCommitOptions<T>) {
    this.maxBatch = requirePositiveInteger('maxBatchRecords', options.maxBatch);
    this.maxDelayMs = requireBatchDelayMs(options.maxDelayMs);
  }

  push(entry: T): void {
    this.queue.push(entry);
    if (this.wake !== undefined && this.queue.length >= this.maxBatch) this.wake();
    this.schedule();
  }

  /** Removes and returns every entry not yet handed to `commit` (to fail them with a batch). */
  takeQueued(): T[] {
    return this.queue.splice(0);
  }

  /** Resolves once nothing is queued or being committed. */
  async settled(): Promise<void> {
    while (this.writer !== undefined) await this.writer;
  }

  private schedule(): void {
    if (this.writer !== undefined) return;
    this.writer = this.gather()
      .then(() => this.drain())
      .finally(() => {
        this.writer = undefined;
        if (this.queue.length > 0) this.schedule();
      });
  }

  /** Starting on a microtask at least lets appends issued in the same tick join the batch. */
  private gather(): Promise<void> {
    if (this.maxDelayMs === 0 || this.lastBatchSize < 2 || this.queue.length >= this.maxBatch) {
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.maxDelayMs);
      this.wake = done;
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.lastBatchSize = batch.length;
      await this.options.commit(batch);
    }
  }
}
