import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface SeenRequest {
  path: string;
  headers: IncomingHttpHeaders;
}

/** `'hang'` never answers (for deadlines). */
export type Script = (request: SeenRequest, url: URL) => ScriptedAnswer | 'hang';

/** A loopback HTTP server answering from a script and recording what it was asked. */
export class ScriptedServer {
  readonly seen: SeenRequest[] = [];

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  static async start(script: Script): Promise<ScriptedServer> {
    const holder: { instance?: ScriptedServer } = {};
    const server = createServer((req, res) => {
      const request = { path: req.url ?? '/', headers: req.headers };
      holder.instance?.seen.push(request);
      const answer = script(request, new URL(request.path, holder.instance?.baseUrl));
      if (answer === 'hang') return;
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? '');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.instance = new ScriptedServer(
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    );
    return holder.instance;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
