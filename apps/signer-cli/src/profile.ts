import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DpopKey } from '@signer/client';
import { DevAuthority, readEmbeddedProfile, type EmbeddedProfile } from '@signer/dev';
import { CliError, type CliIo } from './cli-io';
import { CALLER_KEY_FILE, DEFAULT_PROFILE_DIR, PROFILE_ENV } from './defaults';

export function profileDir(io: CliIo, option: string | undefined): string {
  return resolve(io.cwd, option ?? io.env[PROFILE_ENV] ?? DEFAULT_PROFILE_DIR);
}

/** The embedded profile in `dir`, or a CliError that says how to get one. */
export function loadProfile(dir: string): EmbeddedProfile {
  if (!existsSync(join(dir, 'profile.json'))) {
    throw new CliError(
      `no embedded profile at ${dir}: run \`npm start\` once to generate it, or pass --profile DIR`,
    );
  }
  return readEmbeddedProfile(dir);
}

/** The caller's DPoP key, created on first use and kept owner-only next to the profile. */
export async function callerKey(profile: EmbeddedProfile): Promise<DpopKey> {
  const file = join(profile.dir, CALLER_KEY_FILE);
  if (existsSync(file)) return DpopKey.fromPrivateJwk(JSON.parse(readFileSync(file, 'utf8')));
  const key = await DpopKey.generate();
  mkdirSync(join(profile.dir, 'caller'), { recursive: true, mode: 0o700 });
  try {
    // `wx`: never overwrite a key another run created meanwhile (its tokens would stop matching).
    writeFileSync(file, `${JSON.stringify(await key.toPrivateJwk(), null, 2)}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return DpopKey.fromPrivateJwk(JSON.parse(readFileSync(file, 'utf8')));
  }
  return key;
}

/** What a dev OpTok is bound to: a DPoP key (`cnf.jkt`) or a client certificate (`cnf.x5t#S256`). */
export type DevTokenBinding = { jkt: string } | { x5tS256: string };

/** An OpTok from the profile's dev Authority for its tenant/installation, sender-constrained by `binding`. */
export async function mintDevToken(profile: EmbeddedProfile, binding: DevTokenBinding): Promise<string> {
  const authority = await DevAuthority.fromPrivateJwk(
    JSON.parse(readFileSync(profile.authorityPrivateJwkFile, 'utf8')),
  );
  return authority.mint({ tenant: profile.tenant, installation: profile.installation, ...binding });
}
