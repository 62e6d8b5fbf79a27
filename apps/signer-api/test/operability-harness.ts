import type { Harness } from './harness';

/** The gates of `POST /sign/dsse`, in order: each has a span and a duration histogram. */
export const SIGN_GATES = [
  'body',
  'optok',
  'binding',
  'scope',
  'poe',
  'release',
  'predicate',
  'size',
  'quota',
  'sign',
  'audit',
] as const;

/** Parsed log lines (every line the app wrote is JSON). */
export function logRecords(harness: Harness): Array<Record<string, unknown>> {
  return harness.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The sum of the Prometheus samples of `name` whose labels include `labels`; 0 when none. */
export function sample(metrics: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  let total = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).split(' ')[0];
    if (wanted.every((label) => labelText.includes(label))) total += Number(line.split(' ').pop());
  }
  return total;
}
