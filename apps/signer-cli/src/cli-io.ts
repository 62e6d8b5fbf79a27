/** Where a command writes and what it resolves paths against; tests pass captured streams. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Relative paths (files, `--profile`) resolve against this. */
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Replaces global fetch (tests). */
  fetch?: typeof fetch;
}

export const EXIT_OK = 0;
/** A refusal, a failed verification, an I/O or network failure. */
export const EXIT_FAILURE = 1;
/** Bad arguments. */
export const EXIT_USAGE = 2;

/** A failure the CLI reports as one line on stderr, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string): CliError {
  return new CliError(`${message} (see: signer-cli help)`, EXIT_USAGE);
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
    env: process.env,
  };
}
