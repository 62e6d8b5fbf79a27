import type { FaultWindow } from './phases';

/** A fault window for the checks to judge: injected at 10 s, cleared at 20 s, nothing observed. */
export const faultWindow = (
  name: string,
  upstream: FaultWindow['upstream'],
  victim?: string,
): FaultWindow => ({
  name,
  upstream,
  victim,
  cycle: 1,
  injectAt: 10_000,
  start: 10_100,
  clearAt: 20_000,
  end: 20_100,
  readyz: {},
  upstreamErrors: {},
  notes: [],
});
