import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CachedReadiness } from '../wiring/cached-readiness';

/**
 * The operator-only listener (`server.adminPort`, bound to `server.adminHost`, loopback by
 * default): `GET /readyz` with each dependency's state, from the same cached round as the public
 * `/readyz` (which answers only ready / not ready). Plain `node:http`, no Nest: nothing else is
 * served, and nothing here can reach the signing pipeline.
 */
export interface AdminServer {
  /** The bound port (useful with `adminPort: 0`). */
  port: number;
  close(): Promise<void>;
}

const READYZ = '/readyz';
// An operator's probe is small and quick: a client that dawdles or piles up connections is cut off.
const ADMIN_REQUEST_TIMEOUT_MS = 10_000;
const ADMIN_MAX_CONNECTIONS = 64;

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(text);
}

export function adminHandler(readiness: CachedReadiness) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== READYZ) return send(response, 404, { status: 404, title: 'Not Found' });
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return send(response, 405, { status: 405, title: 'Method Not Allowed' }, { allow: 'GET, HEAD' });
    }
    readiness.report().then(
      (report) =>
        send(response, report.ready ? 200 : 503, {
          status: report.ready ? 'ready' : 'not_ready',
          checkedAt: report.checkedAt.toISOString(),
          dependencies: report.dependencies,
          ...(report.details ? { details: report.details } : {}),
        }),
      () => send(response, 500, { status: 500, title: 'Internal Server Error' }),
    );
  };
}

/** Starts the admin listener; rejects (e.g. `EADDRINUSE`) when the address cannot be bound. */
export async function startAdminServer(
  readiness: CachedReadiness,
  address: { host: string; port: number },
): Promise<AdminServer> {
  const server: Server = createServer(
    { requestTimeout: ADMIN_REQUEST_TIMEOUT_MS, headersTimeout: ADMIN_REQUEST_TIMEOUT_MS },
    adminHandler(readiness),
  );
  server.maxConnections = ADMIN_MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
