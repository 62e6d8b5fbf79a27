/** Where a command writes and what it resolves paths against; tests pass captured streams. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Relative paths (files, `--profile`) resolve against this. */
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Replaces global fetch (tests). */
  fetch?: typeof fetch;
  /** `--json`: stdout carries exactly one JSON document (a result, or `{ "error": … }`). */
  json?: boolean;
}

// Documented in docs/cli.md; scripts branch on these, so they never change meaning.
export const EXIT_OK = 0;
/** Refused by the Signer (4xx), not verified, not trusted, or a local file that cannot be used. */
export const EXIT_FAILURE = 1;
/** Bad arguments. */
export const EXIT_USAGE = 2;
/** No usable answer: the Signer (or PostgreSQL) unreachable, a timeout, or a 5xx. Worth a retry. */
export const EXIT_UNREACHABLE = 3;

/** A failure the CLI reports as one line on stderr, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
    /** Stable code for `--json` output. */
    readonly code: string = exitCode === EXIT_USAGE ? 'usage' : 'failed',
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string): CliError {
  return new CliError(`${message} (see: signer help)`, EXIT_USAGE);
}

/** Prints `text` for a person, or `value` as one JSON document under `--json`. */
export function emit(io: CliIo, text: string, value: unknown): void {
  io.stdout(io.json ? `${JSON.stringify(value)}\n` : text);
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
    env: process.env,
  };
}
