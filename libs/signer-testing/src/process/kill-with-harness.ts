import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
let hooked = false;

/**
 * Kills `child` with SIGKILL if the harness exits first (an uncaught error, a signal): the soak,
 * the bench or a test never leaves a replica or a redis-server behind.
 */
export function killWithHarness(child: ChildProcess): void {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const running of children) running.kill('SIGKILL');
    });
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
}
