import { createHash, X509Certificate } from 'node:crypto';
import { createTlsFetch, DpopKey } from '@signer/client';
import { stringOption, type ParsedCommand } from './args';
import { CliError, usageError, type CliIo } from './cli-io';
import { readOptionFile } from './files';

/** The options that choose how the caller proves possession, and whom it trusts for https. */
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

/** What a dev command supplies when an option is absent (the profile's caller key and dev Authority). */
export interface BindingDefaults {
  dpopKey(): Promise<DpopKey>;
  token(binding: { jkt: string } | { x5tS256: string }): Promise<string>;
}

// The parser's message may quote the file, which holds a private key: never pass it on.
export async function readDpopKey(io: CliIo, path: string): Promise<DpopKey> {
  const text = readOptionFile(io, '--dpop-key', path);
  try {
    return await DpopKey.fromPrivateJwk(JSON.parse(text));
  } catch {
    throw new CliError('--dpop-key: expected a private JWK (ES256, ES384 or EdDSA)');
  }
}

/** The OpTok in `--token-file`, trimmed; it is never printed. */
export function readToken(io: CliIo, path: string): string {
  const token = readOptionFile(io, '--token-file', path).trim();
  if (token === '') throw new CliError(`--token-file ${path}: empty`);
  return token;
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

const NO_DEFAULTS: BindingDefaults = {
  dpopKey: () => Promise.reject(new CliError('no DPoP key')),
  token: () => Promise.reject(new CliError('no token')),
};

/**
 * DPoP (`--dpop-key`, a private JWK) or mTLS (`--client-cert` + `--client-key`, token sent as
 * Bearer), with the OpTok from `--token-file`. Without `defaults` (commands for any deployment)
 * both are required; `dev` commands fill the gaps from the embedded profile.
 */
export async function callerBinding(
  command: string,
  parsed: ParsedCommand,
  io: CliIo,
  defaults?: BindingDefaults,
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
  if (defaults === undefined && tokenFile === undefined)
    throw usageError(`${command}: --token-file is required (an OpTok from your Authority)`);
  if (defaults === undefined && certFile === undefined && dpopKeyFile === undefined)
    throw usageError(`${command}: --dpop-key (a private JWK) or --client-cert/--client-key is required`);
  // Reached only by dev commands: the checks above leave nothing for these to fill otherwise.
  const fill = defaults ?? NO_DEFAULTS;
  const ca = caFile === undefined ? undefined : readOptionFile(io, '--cacert', caFile);
  const suppliedToken = tokenFile === undefined ? undefined : readToken(io, tokenFile);

  if (certFile !== undefined && keyFile !== undefined) {
    const cert = readOptionFile(io, '--client-cert', certFile);
    const key = readOptionFile(io, '--client-key', keyFile);
    const token = suppliedToken ?? (await fill.token({ x5tS256: certificateThumbprint(cert) }));
    return { kind: 'mtls', token, fetch: createTlsFetch({ ca, cert, key }) };
  }
  const dpopKey = dpopKeyFile === undefined ? await fill.dpopKey() : await readDpopKey(io, dpopKeyFile);
  return {
    kind: 'dpop',
    token: suppliedToken ?? (await fill.token({ jkt: dpopKey.thumbprint })),
    dpopKey,
    fetch: ca === undefined ? io.fetch : createTlsFetch({ ca }),
  };
}
