import { resolve } from 'node:path';
import {
  fetchSignerKeys,
  verifyBundle,
  type InTotoStatement,
  type SignDsseResponse,
  type VerificationKey,
} from '@signer/client';
import { parseCommand, stringOption, type ParsedCommand } from '../args';
import { CliError, emit, EXIT_OK, usageError, type CliIo } from '../cli-io';
import { checkedUrl, URL_OPTION, URL_ENV } from '../defaults';
import { describeArtifact, readOptionFile } from '../files';
import { verifyKeyless } from './verify-keyless';

export const VERIFY_OPTIONS = {
  ...URL_OPTION,
  key: { type: 'string' },
  'trusted-root': { type: 'string' },
  artifact: { type: 'string' },
  'certificate-identity': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
} as const;

/** What a verified bundle says, for the person and for `--json`. */
export interface Verified {
  mode: 'kms' | 'keyless';
  keyId: string;
  statement: InTotoStatement;
  /** keyless: the certificate's identity. */
  identity?: { subject?: string; issuer?: string };
}

/**
 * `verify <bundle.json> [--artifact FILE]`: both signatures of a kms-mode response with the key
 * published at `GET /keys` (`--url`) or a PEM trusted out of band (`--key`); a keyless response
 * against a Sigstore trusted root (`--trusted-root`), once it carries a timestamp. With
 * `--artifact`, the file's SHA-256 must be a subject's digest (as cosign verify-blob-attestation).
 */
export async function verify(args: string[], io: CliIo): Promise<number> {
  return verifyParsed('verify', parseCommand('verify', args, VERIFY_OPTIONS, ['bundle.json']), io);
}

export async function verifyParsed(
  command: string,
  parsed: ParsedCommand,
  io: CliIo,
  defaultUrl?: string,
): Promise<number> {
  const sources = ['url', 'key', 'trusted-root'].filter((name) => stringOption(parsed, name) !== undefined);
  if (sources.length > 1) throw usageError(`${command}: pass one of --url, --key or --trusted-root`);
  const response = readResponse(io, parsed.positionals[0]);
  const url = () => {
    const value = stringOption(parsed, 'url') ?? defaultUrl ?? io.env[URL_ENV];
    if (value === undefined || value === '')
      throw usageError(`${command}: --url (or $${URL_ENV}), --key or --trusted-root is required`);
    return checkedUrl(command, value);
  };
  const verified =
    response?.bundle?.mode === 'keyless'
      ? await verifyKeyless(response, {
          io,
          trustedRootFile: stringOption(parsed, 'trusted-root'),
          identity: stringOption(parsed, 'certificate-identity'),
          issuer: stringOption(parsed, 'certificate-oidc-issuer'),
        })
      : await verifyKeyed(response, await verificationKeys(parsed, io, response, url));
  const artifactFile = stringOption(parsed, 'artifact');
  const artifact = artifactFile === undefined ? undefined : await matchArtifact(io, artifactFile, verified);
  emit(io, `verified: ${describeSubjects(verified.statement)}\n`, {
    verified: true,
    mode: verified.mode,
    keyId: verified.keyId,
    ...(verified.identity ? { identity: verified.identity } : {}),
    predicateType: verified.statement.predicateType,
    subjects: verified.statement.subject,
    ...(artifact ? { artifact } : {}),
  });
  return EXIT_OK;
}

async function verifyKeyed(response: SignDsseResponse, keys: VerificationKey[]): Promise<Verified> {
  const { keyId, statement } = await verifyBundle(response, keys);
  return { mode: 'kms', keyId, statement };
}

function readResponse(io: CliIo, file: string): SignDsseResponse {
  const text = readOptionFile(io, 'bundle', file);
  try {
    return JSON.parse(text) as SignDsseResponse;
  } catch {
    throw new CliError(`${resolve(io.cwd, file)}: not JSON`);
  }
}

async function verificationKeys(
  parsed: ParsedCommand,
  io: CliIo,
  response: SignDsseResponse,
  url: () => string,
): Promise<VerificationKey[]> {
  const keyFile = stringOption(parsed, 'key');
  if (keyFile !== undefined) {
    // A PEM given by the operator is trusted for whatever key id the bundle names.
    const keyId = response?.bundle?.signingIdentity?.keyId;
    if (typeof keyId !== 'string') throw new CliError('bundle names no signingIdentity.keyId');
    return [{ keyId, publicKeyPem: readOptionFile(io, '--key', keyFile) }];
  }
  if (stringOption(parsed, 'trusted-root') !== undefined)
    throw usageError('verify: --trusted-root is for keyless bundles; this one is kms-mode');
  const { keys } = await fetchSignerKeys({ baseUrl: url(), fetch: io.fetch });
  // A revoked key's signatures are refused whatever their date (contract §11): the key may be in
  // an attacker's hands, and a signature carries no trusted time of its own.
  const named = response?.bundle?.signingIdentity?.keyId;
  const revoked = keys.find((key) => key.state === 'revoked' && key.keyId === named);
  if (revoked) {
    throw new CliError(
      `verification failed: key ${revoked.name ?? revoked.keyId} was revoked at ${revoked.revokedAt ?? 'an unknown time'}`,
      1,
      'key_revoked',
    );
  }
  return keys.filter((key) => key.state !== 'revoked');
}

// cosign verify-blob-attestation's check: the file is what the Statement speaks about.
async function matchArtifact(io: CliIo, file: string, verified: Verified) {
  const { sha256 } = await describeArtifact(resolve(io.cwd, file));
  const subject = verified.statement.subject.find((candidate) => candidate.digest?.['sha256'] === sha256);
  if (subject === undefined) {
    throw new CliError(
      `verification failed: artifact ${file} (sha256:${sha256}) is not a subject of the statement`,
      1,
      'subject_mismatch',
    );
  }
  return { file, sha256, subject: subject.name };
}

function describeSubjects(statement: InTotoStatement): string {
  return statement.subject
    .map((subject) => {
      const digests = Object.entries(subject.digest ?? {}).map(([algorithm, hex]) => `${algorithm}:${hex}`);
      return `${subject.name} (${digests.join(', ')})`;
    })
    .join(', ');
}
