import type { Clock } from '@signer/core';

type Instant = Date | string | number;

/**
 * The one fake clock: it moves only by what the test adds. Pinned (`new ManualClock(start)`) it
 * stands still at `start`; without `start` it runs with the real time plus that offset, for a
 * Signer whose tokens and PoEs come from fakes that read the real time.
 */
export class ManualClock implements Clock {
  private readonly pinnedMs: number | undefined;
  private offsetMs = 0;

  constructor(start?: Instant) {
    this.pinnedMs = start === undefined ? undefined : new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.baseMs() + this.offsetMs);
  }

  /** The current instant in whole epoch seconds (`iat`, `exp`). */
  seconds(): number {
    return Math.floor(this.now().getTime() / 1000);
  }

  advanceMs(ms: number): void {
    this.offsetMs += ms;
  }

  advanceSeconds(seconds: number): void {
    this.advanceMs(seconds * 1000);
  }

  /** Jumps to `instant` (it then stands still or runs on, as the clock does). */
  set(instant: Instant): void {
    this.offsetMs = new Date(instant).getTime() - this.baseMs();
  }

  /** Back to `start` (pinned) or to the real time. */
  reset(): void {
    this.offsetMs = 0;
  }

  private baseMs(): number {
    return this.pinnedMs ?? Date.now();
  }
}
