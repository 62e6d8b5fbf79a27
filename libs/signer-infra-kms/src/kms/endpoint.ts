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

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * Parses a base URL `http(s)://host[:port]` (no path, query or credentials). Plain HTTP is refused
 * unless the host is loopback: the request carries credentials (SigV4 signatures, OAuth tokens, an
 * OIDC identity token) that must not cross a network in clear text.
 */
export function parseServiceEndpoint(what: string, value: string): ServiceEndpoint {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new KeyConfigError(`${what}: "${value}" is not a URL`, { cause });
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
  const loopback = LOOPBACK.has(url.hostname);
  if (protocol === 'http' && !loopback) {
    throw new KeyConfigError(`${what}: plain http:// is only allowed for a loopback host; use https://`);
  }
  const port = url.port ? Number(url.port) : protocol === 'https' ? 443 : 80;
  return { url: `${protocol}://${url.host}`, protocol, host: url.hostname, port, loopback };
}
