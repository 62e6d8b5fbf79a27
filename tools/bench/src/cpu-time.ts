// CPU time from /proc (Linux): per process, per thread kind, per core. A window's figures are the
// difference of two samples; cores' busy time minus ours is what other processes took.
import { readdirSync, readFileSync } from 'node:fs';
import type { ThreadCpu } from './types';

/** USER_HZ; Linux reports 100 on every architecture Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

function statTimes(path: string): ThreadCpu {
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    user: Number(fields[11]) / CLOCK_TICKS_PER_SECOND,
    system: Number(fields[12]) / CLOCK_TICKS_PER_SECOND,
  };
}

/** User + system CPU seconds a process (all its threads) has used so far. */
export function cpuSeconds(pid: number): number {
  const { user, system } = statTimes(`/proc/${pid}/stat`);
  return user + system;
}

/**
 * CPU seconds of a process on its JS main thread and on its other threads (libuv's pool, where
 * WebCrypto and fs calls run, and V8's GC/compiler helpers; Node 20 does not name them), split
 * into user and system time.
 */
export function threadCpuSeconds(pid: number): { main: ThreadCpu; others: ThreadCpu } {
  const byKind = { main: { user: 0, system: 0 }, others: { user: 0, system: 0 } };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const kind = byKind[tid === String(pid) ? 'main' : 'others'];
      const { user, system } = statTimes(`/proc/${pid}/task/${tid}/stat`);
      kind.user += user;
      kind.system += system;
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return byKind;
}

/**
 * Busy CPU seconds per core from /proc/stat (`all` sums them): user, nice, system and steal.
 * Interrupt time is left out — it is mostly the loopback traffic of the bench itself, which no
 * process is charged for.
 */
export function coreBusySeconds(): Record<string, number> {
  const busy: Record<string, number> = {};
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d*) (.*)$/.exec(line);
    if (!match) continue;
    const [user = 0, nice = 0, system = 0, , , , , steal = 0] = (match[2] ?? '')
      .trim()
      .split(/\s+/)
      .map(Number);
    busy[match[1] === '' ? 'all' : (match[1] ?? 'all')] =
      (user + nice + system + steal) / CLOCK_TICKS_PER_SECOND;
  }
  return busy;
}

/** Busy seconds of `core` (a CPU number, or `all`) in a {@link coreBusySeconds} sample. */
export function busyOf(sample: Record<string, number>, core: number | undefined): number {
  return sample[core === undefined ? 'all' : String(core)] ?? 0;
}
