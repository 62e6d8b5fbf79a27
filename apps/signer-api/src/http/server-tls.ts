import { readFileSync } from 'node:fs';
import type { SignerConfig } from '../config/config-schema';
import { ConfigError } from '../config/load-config';
import type { CreateAppOptions } from './create-app';

function read(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(
      `${key}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

/**
 * HTTPS options from `server.tls` (contract §3, RFC 8705). With `clientCaFile` the server asks
 * every caller for a certificate but does not abort the handshake without one: DPoP callers and
 * `GET /keys` need none, and a missing or foreign certificate must be answered as an audited
 * `401 invalid_token`, not a TLS alert. Node marks a certificate that does not chain to the CA
 * (or is expired) `authorized: false`, and request-context ignores such a certificate entirely.
 */
export function serverTls(config: SignerConfig): CreateAppOptions['https'] {
  const tls = config.server.tls;
  if (!tls) return undefined;
  return {
    key: read('server.tls.keyFile', tls.keyFile),
    cert: read('server.tls.certFile', tls.certFile),
    ...(tls.clientCaFile ? { ca: read('server.tls.clientCaFile', tls.clientCaFile) } : {}),
    requestCert: tls.clientCaFile !== undefined,
    rejectUnauthorized: false,
  };
}
