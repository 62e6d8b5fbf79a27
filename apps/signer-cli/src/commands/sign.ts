import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SignerClient, type SignDsseRequest } from '@signer/client';
import type { EmbeddedProfile } from '@signer/dev';
import { parseCommand, stringOption } from '../args';
import { CliError, EXIT_OK, usageError, type CliIo } from '../cli-io';
import { BUNDLE_SUFFIX, DEFAULT_PREDICATE_TYPE } from '../defaults';
import { BINDING_OPTIONS, callerBinding } from '../binding';
import { loadProfile, profileDir } from '../profile';

const OPTIONS = {
  out: { type: 'string' },
  'predicate-type': { type: 'string' },
  url: { type: 'string' },
  profile: { type: 'string' },
  'idempotency-key': { type: 'string' },
  'poe-format': { type: 'string' },
  ...BINDING_OPTIONS,
} as const;

/**
 * `sign <file>`: signs the file's digest as the one subject of a Statement, as the profile's dev
 * caller, writes the full response next to the file (or `--out`) and prints the auditId.
 */
export async function sign(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('sign', args, OPTIONS, ['file']);
  const file = resolve(io.cwd, parsed.positionals[0]);
  const out = resolve(io.cwd, stringOption(parsed, 'out') ?? `${parsed.positionals[0]}${BUNDLE_SUFFIX}`);
  const artifact = await describeArtifact(file);
  const poeFormat = stringOption(parsed, 'poe-format') ?? 'jwt';
  if (poeFormat !== 'jwt' && poeFormat !== 'mtls') throw usageError('sign: --poe-format is jwt or mtls');
  const profile = loadProfile(profileDir(io, stringOption(parsed, 'profile')));
  const binding = await callerBinding('sign', parsed, io, profile);
  if (poeFormat === 'mtls' && binding.kind !== 'mtls')
    throw usageError('sign: --poe-format mtls needs --client-cert and --client-key');
  const client = new SignerClient({
    baseUrl: stringOption(parsed, 'url') ?? profile.signerUrl,
    accessToken: binding.token,
    dpopKey: binding.dpopKey,
    fetch: binding.fetch,
  });
  const request = signRequest(
    profile,
    artifact,
    stringOption(parsed, 'predicate-type') ?? DEFAULT_PREDICATE_TYPE,
    poeFormat,
  );
  const response = await client.signDsse(request, {
    idempotencyKey: stringOption(parsed, 'idempotency-key'),
  });
  writeFileSync(out, `${JSON.stringify(response, null, 2)}\n`);
  io.stderr(
    `signed ${artifact.name} (sha256:${artifact.sha256}) with key ${response.bundle.signingIdentity.keyId}; bundle written to ${out}\n`,
  );
  io.stdout(`${response.auditId}\n`);
  return EXIT_OK;
}

interface Artifact {
  name: string;
  size: number;
  sha256: string;
}

// Streamed, so the artifact may be far larger than anything the Signer itself receives.
async function describeArtifact(file: string): Promise<Artifact> {
  let size: number;
  try {
    const stats = statSync(file);
    if (!stats.isFile()) throw new CliError(`${file}: not a regular file`);
    size = stats.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return { name: basename(file), size, sha256: hash.digest('hex') };
}

function signRequest(
  profile: EmbeddedProfile,
  artifact: Artifact,
  predicateType: string,
  poeFormat: 'jwt' | 'mtls',
): SignDsseRequest {
  return {
    subject: [{ name: artifact.name, digest: { sha256: artifact.sha256 } }],
    predicateType,
    predicate: { artifact: { name: artifact.name, size: artifact.size } },
    scannerImageDigest: profile.scannerImageDigest,
    // mtls: the PoE is the client certificate of the connection (contract §2.1).
    poe:
      poeFormat === 'mtls'
        ? { format: 'mtls' }
        : { format: 'jwt', value: readFileSync(profile.poeFile, 'utf8').trim() },
  };
}
