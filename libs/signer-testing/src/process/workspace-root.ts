import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder holding nx.json above `start` (a harness may run from a bundle under tmp/). */
export function findWorkspaceRoot(start: string = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no nx.json above ${start}`);
  }
}
