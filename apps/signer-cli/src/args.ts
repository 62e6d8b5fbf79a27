import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from './cli-io';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedCommand {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

/** Strict parsing (unknown options are usage errors) with an exact number of positionals. */
export function parseCommand(
  command: string,
  args: string[],
  options: Options,
  positionalNames: readonly string[],
): ParsedCommand {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(`${command}: ${(error as Error).message}`);
  }
  const values = parsed.values as ParsedCommand['values'];
  if (parsed.positionals.length !== positionalNames.length) {
    const expected =
      positionalNames.length === 0 ? 'no arguments' : positionalNames.map((name) => `<${name}>`).join(' ');
    throw usageError(`${command}: expected ${expected}, got ${parsed.positionals.length} argument(s)`);
  }
  return { positionals: parsed.positionals, values };
}

export function stringOption(parsed: ParsedCommand, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}
