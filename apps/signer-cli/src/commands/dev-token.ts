import { parseCommand, stringOption } from '../args';
import { EXIT_OK, type CliIo } from '../cli-io';
import { callerKey, loadProfile, mintDevToken, profileDir } from '../profile';

/** `dev-token [--profile DIR]`: prints an OpTok bound to the profile's caller DPoP key, and nothing else. */
export async function devToken(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('dev-token', args, { profile: { type: 'string' } }, []);
  const profile = loadProfile(profileDir(io, stringOption(parsed, 'profile')));
  io.stdout(`${await mintDevToken(profile, await callerKey(profile))}\n`);
  return EXIT_OK;
}
