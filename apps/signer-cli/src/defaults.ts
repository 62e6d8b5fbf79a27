import { stringOption, type ParsedCommand } from './args';
import { usageError, type CliIo } from './cli-io';

export const DEFAULT_PREDICATE_TYPE = 'https://stella-ops.org/attestations/scan-report/1';
export const BUNDLE_SUFFIX = '.bundle.json';
/** The Signer a command talks to when `--url` is absent (commands for any deployment). */
export const URL_ENV = 'SIGNER_URL';
export const DEFAULT_PROFILE_DIR = '.signer-dev';
/** Overrides the default profile folder (`npm run cli` sets it to the workspace's `.signer-dev`). */
export const PROFILE_ENV = 'SIGNER_PROFILE';
export const CALLER_KEY_FILE = 'caller/dpop.jwk.json';
export const URL_OPTION = { url: { type: 'string' } } as const;

/** `--url`, else `$SIGNER_URL`; there is no built-in default outside the `dev` commands. */
export function targetUrl(command: string, parsed: ParsedCommand, io: CliIo): string {
  const url = stringOption(parsed, 'url') ?? io.env[URL_ENV];
  if (url === undefined || url === '') throw usageError(`${command}: --url (or $${URL_ENV}) is required`);
  return checkedUrl(command, url);
}

/** An http(s) URL, or a usage error naming it (a URL carries no secret). */
export function checkedUrl(command: string, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(`${command}: --url expected an http(s) URL, got ${url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw usageError(`${command}: --url expected an http(s) URL, got ${url}`);
  return url;
}
