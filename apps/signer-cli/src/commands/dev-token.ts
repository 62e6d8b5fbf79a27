import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCommand, stringOption } from '../args';
import { certificateThumbprint } from '../binding';
import { CliError, EXIT_OK, type CliIo } from '../cli-io';
import { callerKey, loadProfile, mintDevToken, profileDir } from '../profile';

const OPTIONS = { profile: { type: 'string' }, 'client-cert': { type: 'string' } } as const;

/**
 * `dev-token [--profile DIR] [--client-cert PEM]`: prints an OpTok bound to the profile's caller
 * DPoP key (`cnf.jkt`), or to a client certificate (`cnf.x5t#S256`), and nothing else.
 */
export async function devToken(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('dev-token', args, OPTIONS, []);
  const profile = loadProfile(profileDir(io, stringOption(parsed, 'profile')));
  const certFile = stringOption(parsed, 'client-cert');
  const binding =
    certFile === undefined
      ? { jkt: (await callerKey(profile)).thumbprint }
      : { x5tS256: certificateThumbprint(readCertificate(io, certFile)) };
  io.stdout(`${await mintDevToken(profile, binding)}\n`);
  return EXIT_OK;
}

function readCertificate(io: CliIo, path: string): string {
  try {
    return readFileSync(resolve(io.cwd, path), 'utf8');
  } catch (error) {
    throw new CliError(
      `--client-cert ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}
