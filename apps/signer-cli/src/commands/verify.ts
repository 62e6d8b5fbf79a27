import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  fetchSignerKeys,
  verifyBundle,
  type InTotoStatement,
  type SignDsseResponse,
  type VerificationKey,
} from '@signer/client';
import { parseCommand, stringOption, type ParsedCommand } from '../args';
import { CliError, EXIT_OK, usageError, type CliIo } from '../cli-io';
import { loadProfile, profileDir } from '../profile';

const OPTIONS = {
  url: { type: 'string' },
  key: { type: 'string' },
  profile: { type: 'string' },
} as const;

/**
 * `verify <bundle.json>`: verifies both signatures of a kms-mode response with the Signer's
 * published key (`--url`, default the profile's Signer) or a PEM trusted out of band (`--key`,
 * no network).
 */
export async function verify(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('verify', args, OPTIONS, ['bundle.json']);
  if (stringOption(parsed, 'url') !== undefined && stringOption(parsed, 'key') !== undefined) {
    throw usageError('verify: pass either --url or --key, not both');
  }
  const response = readResponse(resolve(io.cwd, parsed.positionals[0]));
  const keys = await verificationKeys(parsed, io, response);
  const { statement } = await verifyBundle(response, keys);
  io.stdout(`verified: ${describeSubjects(statement)}\n`);
  return EXIT_OK;
}

function readResponse(file: string): SignDsseResponse {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text) as SignDsseResponse;
  } catch {
    throw new CliError(`${file}: not JSON`);
  }
}

async function verificationKeys(
  parsed: ParsedCommand,
  io: CliIo,
  response: SignDsseResponse,
): Promise<VerificationKey[]> {
  const keyFile = stringOption(parsed, 'key');
  if (keyFile !== undefined) {
    // A PEM given by the operator is trusted for whatever key id the bundle names.
    const keyId = response?.bundle?.signingIdentity?.keyId;
    if (typeof keyId !== 'string') throw new CliError('bundle names no signingIdentity.keyId');
    return [{ keyId, publicKeyPem: readPem(resolve(io.cwd, keyFile)) }];
  }
  const baseUrl =
    stringOption(parsed, 'url') ?? loadProfile(profileDir(io, stringOption(parsed, 'profile'))).signerUrl;
  return (await fetchSignerKeys({ baseUrl, fetch: io.fetch })).keys;
}

function readPem(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function describeSubjects(statement: InTotoStatement): string {
  return statement.subject
    .map((subject) => {
      const digests = Object.entries(subject.digest ?? {}).map(([algorithm, hex]) => `${algorithm}:${hex}`);
      return `${subject.name} (${digests.join(', ')})`;
    })
    .join(', ');
}
