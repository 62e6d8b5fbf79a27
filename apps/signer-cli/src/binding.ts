import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createTlsFetch, DpopKey } from '@signer/client';
import type { EmbeddedProfile } from '@signer/dev';
import { stringOption, type ParsedCommand } from './args';
import { CliError, usageError, type CliIo } from './cli-io';
import { callerKey, mintDevToken } from './profile';

/** The options that choose how the caller proves possession (sign) or what a dev token binds (dev-token). */
export const BINDING_OPTIONS = {
  'client-cert': { type: 'string' },
  'client-key': { type: 'string' },
  cacert: { type: 'string' },
  'dpop-key': { type: 'string' },
  'token-file': { type: 'string' },
} as const;

/** How requests are authenticated: the OpTok, and either a DPoP key or a TLS client certificate. */
export interface CallerBinding {
  kind: 'dpop' | 'mtls';
  token: string;
  /** DPoP binding: proofs are signed with it (`Authorization: DPoP`). */
  dpopKey?: DpopKey;
  /** mTLS binding, or a private server CA: requests go through node:https (`Authorization: Bearer`). */
  fetch?: typeof fetch;
}

function readOption(io: CliIo, option: string, path: string): string {
  try {
    return readFileSync(resolve(io.cwd, path), 'utf8');
  } catch (error) {
    throw new CliError(
      `--${option} ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

// The parser's message may quote the file, which holds a private key: never pass it on.
async function readDpopKey(text: string): Promise<DpopKey> {
  try {
    return await DpopKey.fromPrivateJwk(JSON.parse(text));
  } catch {
    throw new CliError('--dpop-key: expected a private JWK (ES256, ES384 or EdDSA)');
  }
}

/** RFC 8705 `x5t#S256` of a PEM certificate. */
export function certificateThumbprint(pem: string): string {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    throw new CliError('--client-cert: not a PEM certificate');
  }
  return createHash('sha256').update(certificate.raw).digest('base64url');
}

/**
 * DPoP (default: the profile's caller key, or `--dpop-key` with a private JWK) or mTLS
 * (`--client-cert` + `--client-key`, sent as Bearer). The token is `--token-file` (issued by a real
 * Authority for that key or certificate) or a dev token minted from the profile, bound accordingly.
 */
export async function callerBinding(
  command: string,
  parsed: ParsedCommand,
  io: CliIo,
  profile: EmbeddedProfile,
): Promise<CallerBinding> {
  const certFile = stringOption(parsed, 'client-cert');
  const keyFile = stringOption(parsed, 'client-key');
  const dpopKeyFile = stringOption(parsed, 'dpop-key');
  const caFile = stringOption(parsed, 'cacert');
  const tokenFile = stringOption(parsed, 'token-file');
  if ((certFile === undefined) !== (keyFile === undefined))
    throw usageError(`${command}: --client-cert and --client-key go together`);
  if (certFile !== undefined && dpopKeyFile !== undefined)
    throw usageError(`${command}: choose one binding: --client-cert or --dpop-key`);
  const ca = caFile === undefined ? undefined : readOption(io, 'cacert', caFile);
  const suppliedToken = tokenFile === undefined ? undefined : readOption(io, 'token-file', tokenFile).trim();

  if (certFile !== undefined && keyFile !== undefined) {
    const cert = readOption(io, 'client-cert', certFile);
    const key = readOption(io, 'client-key', keyFile);
    return {
      kind: 'mtls',
      token: suppliedToken ?? (await mintDevToken(profile, { x5tS256: certificateThumbprint(cert) })),
      fetch: createTlsFetch({ ca, cert, key }),
    };
  }
  const dpopKey =
    dpopKeyFile === undefined
      ? await callerKey(profile)
      : await readDpopKey(readOption(io, 'dpop-key', dpopKeyFile));
  return {
    kind: 'dpop',
    token: suppliedToken ?? (await mintDevToken(profile, { jkt: dpopKey.thumbprint })),
    dpopKey,
    fetch: ca === undefined ? io.fetch : createTlsFetch({ ca }),
  };
}
