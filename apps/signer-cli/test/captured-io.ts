import type { CliIo } from '../src/main';

export interface CapturedRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** An in-process CliIo whose output the test reads back. */
export function capturedIo(
  cwd: string,
  env: Record<string, string | undefined> = {},
): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, cwd, env, stdout: (text) => void out.push(text), stderr: (text) => void err.push(text) };
}
