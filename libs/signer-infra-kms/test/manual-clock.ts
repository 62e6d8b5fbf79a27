import type { Clock } from '@signer/core';

/** A clock that moves only when the test says so. */
export interface ManualClock extends Clock {
  advanceMs(ms: number): void;
}

export function manualClock(start = new Date()): ManualClock {
  let nowMs = start.getTime();
  return {
    now: () => new Date(nowMs),
    advanceMs: (ms) => {
      nowMs += ms;
    },
  };
}
