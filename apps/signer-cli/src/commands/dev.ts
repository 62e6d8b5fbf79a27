import { parseCommand, stringOption } from '../args';
import { certificateThumbprint, type BindingDefaults } from '../binding';
import { emit, EXIT_OK, usageError, type CliIo } from '../cli-io';
import { readOptionFile } from '../files';
import { callerKey, loadProfile, mintDevToken, profileDir } from '../profile';
import { SIGN_OPTIONS, signFile } from './sign';
import { verifyParsed, VERIFY_OPTIONS } from './verify';
import type { EmbeddedProfile } from '@signer/dev';

const PROFILE_OPTION = { profile: { type: 'string' } } as const;

type Subcommand = (args: string[], io: CliIo) => Promise<number>;

const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  token: devToken,
  sign: devSign,
  verify: devVerify,
};

/** `dev <token|sign|verify>`: the embedded profile (`npm start`) supplies what is not given. */
export async function dev(args: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = args;
  const subcommand = name === undefined ? undefined : SUBCOMMANDS[name];
  if (subcommand === undefined)
    throw usageError(`dev: expected token, sign or verify, got ${name ?? 'nothing'}`);
  return subcommand(rest, io);
}

function bindingDefaults(profile: EmbeddedProfile): BindingDefaults {
  return { dpopKey: () => callerKey(profile), token: (binding) => mintDevToken(profile, binding) };
}

/**
 * `dev token [--profile DIR] [--client-cert PEM]`: prints an OpTok bound to the profile's caller
 * DPoP key (`cnf.jkt`), or to a client certificate (`cnf.x5t#S256`), and nothing else.
 */
export async function devToken(args: string[], io: CliIo): Promise<number> {
  const options = { ...PROFILE_OPTION, 'client-cert': { type: 'string' } } as const;
  const parsed = parseCommand('dev token', args, options, []);
  const profile = loadProfile(profileDir(io, stringOption(parsed, 'profile')));
  const certFile = stringOption(parsed, 'client-cert');
  const binding =
    certFile === undefined
      ? { jkt: (await callerKey(profile)).thumbprint }
      : { x5tS256: certificateThumbprint(readOptionFile(io, '--client-cert', certFile)) };
  const token = await mintDevToken(profile, binding);
  emit(io, `${token}\n`, { token });
  return EXIT_OK;
}

/** `dev sign <file>`: `sign` with the profile's URL, caller key, dev token, PoE and scanner digest. */
async function devSign(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('dev sign', args, { ...SIGN_OPTIONS, ...PROFILE_OPTION }, ['file']);
  const profile = loadProfile(profileDir(io, stringOption(parsed, 'profile')));
  return signFile('dev sign', parsed, io, {
    url: profile.signerUrl,
    scannerDigest: profile.scannerImageDigest,
    poeFile: profile.poeFile,
    binding: bindingDefaults(profile),
  });
}

/** `dev verify <bundle>`: `verify` against the profile's Signer unless --url/--key/--trusted-root. */
async function devVerify(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('dev verify', args, { ...VERIFY_OPTIONS, ...PROFILE_OPTION }, ['bundle.json']);
  const chosen = ['url', 'key', 'trusted-root'].some((name) => stringOption(parsed, name) !== undefined);
  const url = chosen ? undefined : loadProfile(profileDir(io, stringOption(parsed, 'profile'))).signerUrl;
  return verifyParsed('dev verify', parsed, io, url);
}
