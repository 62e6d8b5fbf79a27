import { ClientVerificationError, SignerProblemError, SignerTransportError } from '@signer/client';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, processIo, type CliIo } from './cli-io';
import { audit } from './commands/audit';
import { devToken } from './commands/dev-token';
import { HELP } from './commands/help';
import { sign } from './commands/sign';
import { verify } from './commands/verify';

export type { CliIo } from './cli-io';

type Command = (args: string[], io: CliIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  audit,
  'dev-token': devToken,
  sign,
  verify,
};

/** Runs one CLI invocation and resolves with its exit code; never throws, never calls `process.exit`. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (
    name === 'help' ||
    name === '--help' ||
    name === '-h' ||
    args.includes('--help') ||
    args.includes('-h')
  ) {
    io.stdout(HELP);
    return EXIT_OK;
  }
  const command = name === undefined ? undefined : COMMANDS[name];
  if (command === undefined) {
    io.stderr(`${name === undefined ? 'no command given' : `unknown command: ${name}`}\n\n${HELP}`);
    return EXIT_USAGE;
  }
  try {
    return await command(args, io);
  } catch (error) {
    io.stderr(`${describeFailure(error)}\n`);
    return error instanceof CliError ? error.exitCode : EXIT_FAILURE;
  }
}

// One line per failure; every message here is built without tokens, proofs or the PoE.
function describeFailure(error: unknown): string {
  if (error instanceof SignerProblemError) return error.message;
  if (error instanceof ClientVerificationError) return `verification failed: ${error.code}: ${error.message}`;
  if (error instanceof SignerTransportError) return `${error.code}: ${error.message}${rootCause(error)}`;
  if (error instanceof CliError) return error.message;
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}

// fetch wraps the useful part ("connect ECONNREFUSED 127.0.0.1:8080") two causes deep.
function rootCause(error: Error): string {
  let cause: unknown = error.cause;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  return cause instanceof Error && cause.message ? ` (${cause.message})` : '';
}

if (require.main === module) {
  void run(process.argv.slice(2), processIo()).then((code) => {
    process.exitCode = code;
  });
}
