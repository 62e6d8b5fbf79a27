import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SignerClient, type SignDsseRequest } from '@signer/client';
import { parseCommand, stringOption, type ParsedCommand } from '../args';
import { BINDING_OPTIONS, callerBinding, type BindingDefaults } from '../binding';
import { CliError, emit, EXIT_OK, usageError, type CliIo } from '../cli-io';
import { BUNDLE_SUFFIX, DEFAULT_PREDICATE_TYPE, targetUrl, URL_OPTION } from '../defaults';
import { describeArtifact, readOptionFile, type Artifact } from '../files';

export const SIGN_OPTIONS = {
  out: { type: 'string' },
  'predicate-type': { type: 'string' },
  'predicate-file': { type: 'string' },
  'scanner-digest': { type: 'string' },
  'poe-file': { type: 'string' },
  'poe-format': { type: 'string' },
  'idempotency-key': { type: 'string' },
  ...URL_OPTION,
  ...BINDING_OPTIONS,
} as const;

const SCANNER_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** What a `dev` command fills in when the option is absent. */
export interface SignDefaults {
  url: string;
  scannerDigest: string;
  poeFile: string;
  binding: BindingDefaults;
}

/**
 * `sign <file> --url --token-file (--dpop-key | --client-cert --client-key) --poe-file
 * --scanner-digest`: signs the file's SHA-256 as the one subject of a Statement against any
 * deployment; nothing comes from the dev profile.
 */
export async function sign(args: string[], io: CliIo): Promise<number> {
  return signFile('sign', parseCommand('sign', args, SIGN_OPTIONS, ['file']), io);
}

/** The signing both `sign` and `dev sign` do; `defaults` is what `dev sign` takes from the profile. */
export async function signFile(
  command: string,
  parsed: ParsedCommand,
  io: CliIo,
  defaults?: SignDefaults,
): Promise<number> {
  const url = defaults && !stringOption(parsed, 'url') ? defaults.url : targetUrl(command, parsed, io);
  const scannerDigest = stringOption(parsed, 'scanner-digest') ?? defaults?.scannerDigest;
  if (scannerDigest === undefined) throw usageError(`${command}: --scanner-digest is required`);
  if (!SCANNER_DIGEST.test(scannerDigest))
    throw usageError(`${command}: --scanner-digest expected sha256:<64 lowercase hex>, got ${scannerDigest}`);
  const poeFormat = stringOption(parsed, 'poe-format') ?? 'jwt';
  if (poeFormat !== 'jwt' && poeFormat !== 'mtls')
    throw usageError(`${command}: --poe-format is jwt or mtls`);
  const poeFile = stringOption(parsed, 'poe-file') ?? defaults?.poeFile;
  if (poeFormat === 'jwt' && poeFile === undefined)
    throw usageError(`${command}: --poe-file is required (or --poe-format mtls)`);
  const artifact = await describeArtifact(resolve(io.cwd, parsed.positionals[0]));
  const predicate = readPredicate(io, stringOption(parsed, 'predicate-file'), artifact);
  const binding = await callerBinding(command, parsed, io, defaults?.binding);
  if (poeFormat === 'mtls' && binding.kind !== 'mtls')
    throw usageError(`${command}: --poe-format mtls needs --client-cert and --client-key`);
  const request: SignDsseRequest = {
    subject: [{ name: artifact.name, digest: { sha256: artifact.sha256 } }],
    predicateType: stringOption(parsed, 'predicate-type') ?? DEFAULT_PREDICATE_TYPE,
    predicate,
    scannerImageDigest: scannerDigest,
    // mtls: the PoE is the client certificate of the connection (contract §2.1).
    poe:
      poeFormat === 'mtls' || poeFile === undefined
        ? { format: 'mtls' }
        : { format: 'jwt', value: readOptionFile(io, '--poe-file', poeFile).trim() },
  };
  const client = new SignerClient({
    baseUrl: url,
    accessToken: binding.token,
    dpopKey: binding.dpopKey,
    fetch: binding.fetch,
  });
  const response = await client.signDsse(request, {
    idempotencyKey: stringOption(parsed, 'idempotency-key'),
  });
  const out = resolve(io.cwd, stringOption(parsed, 'out') ?? `${parsed.positionals[0]}${BUNDLE_SUFFIX}`);
  writeFileSync(out, `${JSON.stringify(response, null, 2)}\n`);
  const keyId = response.bundle.signingIdentity.keyId;
  io.stderr(
    `signed ${artifact.name} (sha256:${artifact.sha256}) with key ${keyId}; bundle written to ${out}\n`,
  );
  emit(io, `${response.auditId}\n`, {
    auditId: response.auditId,
    bundleFile: out,
    mode: response.bundle.mode,
    keyId,
    subject: { name: artifact.name, sha256: artifact.sha256 },
  });
  return EXIT_OK;
}

// The default predicate describes the artifact; a caller's own predicate is any JSON object.
function readPredicate(io: CliIo, file: string | undefined, artifact: Artifact): Record<string, unknown> {
  if (file === undefined) return { artifact: { name: artifact.name, size: artifact.size } };
  let value: unknown;
  try {
    value = JSON.parse(readOptionFile(io, '--predicate-file', file));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`--predicate-file ${file}: not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CliError(`--predicate-file ${file}: expected a JSON object`);
  return value as Record<string, unknown>;
}
