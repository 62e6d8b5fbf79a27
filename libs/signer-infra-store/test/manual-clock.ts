import type { Clock } from '@signer/core';

/** A clock that moves only when a test says so. */
export interface ManualClock extends Clock {
  advanceMs(ms: number): void;
  advanceSeconds(seconds: number): void;
  set(iso: string): void;
}

export function manualClock(startIso = '2026-06-01T12:00:00.000Z'): ManualClock {
  let nowMs = Date.parse(startIso);
  return {
    now: () => new Date(nowMs),
    advanceMs: (ms) => {
      nowMs += ms;
    },
    advanceSeconds: (seconds) => {
      nowMs += seconds * 1000;
    },
    set: (iso) => {
      nowMs = Date.parse(iso);
    },
  };
}
