// The service's own counters, read from its `/metrics` around a measured window.
import type { ServiceCounters } from './types';

const METRIC_LINE = /^(signer_requests_total|signer_cache_hits_total)(?:\{([^}]*)\})? (\S+)$/;
const SETTLE_TIMEOUT_MS = 5000;

/** Decisions (all, signed) and cache hits by cache, from a Prometheus text exposition. */
export function parseServiceCounters(text: string): ServiceCounters {
  const counters: ServiceCounters = { requests: 0, signed: 0, cacheHits: { optok: 0, poe: 0, release: 0 } };
  for (const line of text.split('\n')) {
    const match = METRIC_LINE.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    const value = Number(match[3]);
    if (match[1] === 'signer_cache_hits_total') counters.cacheHits[labels['cache'] ?? ''] = value;
    else {
      counters.requests += value;
      if (labels['outcome'] === 'signed') counters.signed += value;
    }
  }
  return counters;
}

async function serviceCounters(origin: string): Promise<ServiceCounters> {
  const response = await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET /metrics: expected 200, got ${response.status}`);
  return parseServiceCounters(await response.text());
}

/** The service's counters once the requests still in flight are answered (two reads agree, ≤ 5 s). */
export async function settledCounters(origin: string): Promise<ServiceCounters> {
  let previous = await serviceCounters(origin);
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const current = await serviceCounters(origin);
    if (current.requests === previous.requests) return current;
    previous = current;
  }
  return previous;
}

/** A tree of counters: numbers, or further trees. */
interface CounterTree {
  [key: string]: number | CounterTree | undefined;
}

/** `after − before` for every number in a (nested) counters object. */
export function difference<T extends object>(after: T, before: T): T {
  const diff = (a: CounterTree, b: CounterTree | undefined): CounterTree =>
    Object.fromEntries(
      Object.entries(a).map(([key, value]) => {
        const previous = b?.[key];
        if (typeof value === 'number') return [key, value - (typeof previous === 'number' ? previous : 0)];
        return [
          key,
          value === undefined ? undefined : diff(value, typeof previous === 'object' ? previous : undefined),
        ];
      }),
    );
  // Same keys and shape as `after`: only the numbers changed.
  return diff(after as CounterTree, before as CounterTree) as T;
}
