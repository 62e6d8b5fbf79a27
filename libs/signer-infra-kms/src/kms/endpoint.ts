import { LOOPBACK_HOSTS, upstreamUrlProblem } from '@signer/core';
import { KeyConfigError } from '../errors';

/** A parsed `signing.keys.<id>.endpoint` / `signing.keyless.fulcioUrl`. */
export interface ServiceEndpoint {
  url: string;
  protocol: 'http' | 'https';
  host: string;
  port: number;
  /** `http://` is accepted only for loopback hosts (emulators, test fakes). */
  loopback: boolean;
}

/**
 * Parses a base URL `http(s)://host[:port]` (no path, query or credentials). Plain HTTP is refused
 * unless the host is loopback (the Signer's one upstream rule, `upstreamUrlProblem`): the request
 * carries credentials (SigV4 signatures, OAuth tokens, an OIDC identity token) that must not cross
 * a network in clear text.
 */
export function parseServiceEndpoint(what: string, value: string): ServiceEndpoint {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Neither the value nor URL's error (which quotes it) is kept: a config error names the key.
    throw new KeyConfigError(`${what} is not a URL`);
  }
  const protocol = url.protocol.replace(/:$/, '');
  if (protocol !== 'http' && protocol !== 'https') {
    throw new KeyConfigError(`${what}: expected an http(s):// base URL, got ${url.protocol}`);
  }
  if (
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search ||
    url.hash ||
    url.username ||
    url.password
  ) {
    throw new KeyConfigError(`${what}: expected scheme, host and port only (no path, query or credentials)`);
  }
  // The scheme and credentials are checked above; what is left of the shared upstream rule
  // (https, or http on a loopback host) gets this setting's own message.
  if (upstreamUrlProblem(url.href) !== undefined) {
    throw new KeyConfigError(`${what}: plain http:// is only allowed for a loopback host; use https://`);
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  const port = url.port ? Number(url.port) : protocol === 'https' ? 443 : 80;
  return { url: `${protocol}://${url.host}`, protocol, host: url.hostname, port, loopback };
}
