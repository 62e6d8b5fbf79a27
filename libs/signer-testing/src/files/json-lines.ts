import { existsSync, readFileSync } from 'node:fs';

/** The records of a JSON-lines file (an audit trail); none when the file is not written yet. */
export function readJsonLines(path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
