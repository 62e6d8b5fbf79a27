import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JSONWebKeySet } from 'jose';

export type AuthorityEndpointMode = 'serve' | 'fail' | 'hang';

/**
 * A real HTTP Authority endpoint on loopback: an OIDC discovery document and a JWKS the test
 * changes at will (rotation), or that fails (500) or never answers (timeouts). Counts requests.
 */
export class AuthorityEndpoint {
  mode: AuthorityEndpointMode = 'serve';
  jwks: JSONWebKeySet = { keys: [] };
  /** What the discovery document names as issuer (defaults to this server's origin). */
  discoveryIssuer?: string;
  readonly hits = new Map<string, number>();
  private readonly hanging = new Set<ServerResponse>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<AuthorityEndpoint> {
    const holder: { instance?: AuthorityEndpoint } = {};
    const server = createServer((request, response) => holder.instance?.handle(request, response));
    holder.instance = new AuthorityEndpoint(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return holder.instance;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get jwksUri(): string {
    return `${this.origin}/jwks.json`;
  }

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  async close(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '/').split('?')[0];
    this.hits.set(path, this.count(path) + 1);
    if (this.mode === 'hang') {
      this.hanging.add(response);
      return;
    }
    if (this.mode === 'fail') return this.send(response, 500, { error: 'down' });
    if (path === '/.well-known/openid-configuration') {
      return this.send(response, 200, {
        issuer: this.discoveryIssuer ?? this.origin,
        jwks_uri: this.jwksUri,
      });
    }
    if (path === '/jwks.json') return this.send(response, 200, this.jwks);
    if (path === '/moved') {
      response.writeHead(302, { location: '/jwks.json' }).end();
      return;
    }
    this.send(response, 404, { error: 'not found' });
  }

  private send(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}
