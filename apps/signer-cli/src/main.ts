#!/usr/bin/env node
import {
  CliError,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_UNREACHABLE,
  EXIT_USAGE,
  processIo,
  type CliIo,
} from './cli-io';
import { HELP } from './commands/help';
import { cliVersion } from './version';

export type { CliIo } from './cli-io';

type Command = (args: string[], io: CliIo) => Promise<number>;

// Loaded on use: jose, pg and @sigstore/* cost more start-up than the rest of the CLI together,
// and `signer --help` must answer in well under 300 ms (docs/cli.md).
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  sign: async () => (await import('./commands/sign')).sign,
  verify: async () => (await import('./commands/verify')).verify,
  referrers: async () => (await import('./commands/referrers')).referrers,
  keys: async () => (await import('./commands/keys')).keys,
  ceremony: async () => (await import('./commands/ceremony')).ceremony,
  'dpop-proof': async () => (await import('./commands/dpop-proof')).dpopProof,
  audit: async () => (await import('./commands/audit')).audit,
  dev: async () => (await import('./commands/dev')).dev,
};

const HELP_FLAGS = new Set(['help', '--help', '-h']);

/** Runs one CLI invocation and resolves with its exit code; never throws, never calls `process.exit`. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  const [name, ...args] = argv.filter((arg) => arg !== '--json');
  const out: CliIo = { ...io, json };
  if (name === '--version' || name === '-V') {
    const version = cliVersion();
    out.stdout(json ? `${JSON.stringify({ version })}\n` : `signer ${version}\n`);
    return EXIT_OK;
  }
  if ((name !== undefined && HELP_FLAGS.has(name)) || args.some((arg) => arg === '--help' || arg === '-h')) {
    out.stdout(HELP);
    return EXIT_OK;
  }
  const load = name === undefined ? undefined : COMMANDS[name];
  if (load === undefined) {
    return fail(
      out,
      new CliError(name === undefined ? 'no command given' : `unknown command: ${name}`, EXIT_USAGE),
      `\n${HELP}`,
    );
  }
  try {
    return await (
      await load()
    )(args, out);
  } catch (error) {
    return fail(out, error);
  }
}

interface Failure {
  exitCode: number;
  code: string;
  message: string;
  status?: number;
  auditId?: string;
}

async function fail(io: CliIo, error: unknown, suffix = ''): Promise<number> {
  const failure = await describeFailure(error);
  io.stderr(`${failure.message}\n${suffix}`);
  if (io.json) io.stdout(`${JSON.stringify({ error: failure })}\n`);
  return failure.exitCode;
}

// One line per failure; every message here is built without tokens, proofs or the PoE.
async function describeFailure(error: unknown): Promise<Failure> {
  if (error instanceof CliError)
    return { exitCode: error.exitCode, code: error.code, message: error.message };
  const client = await import('@signer/client');
  if (error instanceof client.SignerProblemError) {
    // A 5xx or something that is not a Signer answer (a proxy's page): try again later.
    const upstream = error.status >= 500 || error.code === 'unexpected_response';
    return {
      exitCode: upstream ? EXIT_UNREACHABLE : EXIT_FAILURE,
      code: error.code,
      message: error.message,
      status: error.status,
      ...(error.auditId ? { auditId: error.auditId } : {}),
    };
  }
  if (error instanceof client.ClientVerificationError)
    return {
      exitCode: EXIT_FAILURE,
      code: error.code,
      message: `verification failed: ${error.code}: ${error.message}`,
    };
  if (error instanceof client.SignerTransportError)
    return {
      exitCode: EXIT_UNREACHABLE,
      code: error.code,
      message: `${error.code}: ${error.message}${rootCause(error)}`,
    };
  const message = `error: ${error instanceof Error ? error.message : String(error)}`;
  return { exitCode: EXIT_FAILURE, code: 'failed', message };
}

// fetch wraps the useful part ("connect ECONNREFUSED 127.0.0.1:8080") two causes deep. Duck-typed:
// undici's errors may come from another realm (a test VM), where instanceof Error is false.
function rootCause(error: Error): string {
  const causeOf = (value: unknown): unknown =>
    typeof value === 'object' && value !== null ? (value as { cause?: unknown }).cause : undefined;
  let cause = causeOf(error);
  while (causeOf(cause) !== undefined) cause = causeOf(cause);
  const message =
    typeof cause === 'object' && cause !== null ? (cause as { message?: unknown }).message : undefined;
  return typeof message === 'string' && message !== '' ? ` (${message})` : '';
}

if (require.main === module) {
  void run(process.argv.slice(2), processIo()).then((code) => {
    process.exitCode = code;
  });
}
