import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface CannedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** Answers one request; `'hang'` never answers (for timeouts). */
export type Responder = (request: RecordedRequest, index: number) => CannedAnswer | 'hang';

/** A real HTTP server on a loopback ephemeral port that records what the client sent. */
export class LoopbackServer {
  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    readonly requests: RecordedRequest[],
  ) {}

  static async start(responder: Responder): Promise<LoopbackServer> {
    const requests: RecordedRequest[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const recorded = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        requests.push(recorded);
        const answer = responder(recorded, requests.length - 1);
        if (answer === 'hang') return;
        const body =
          answer.body === undefined
            ? ''
            : typeof answer.body === 'string'
              ? answer.body
              : JSON.stringify(answer.body);
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new LoopbackServer(server, `http://127.0.0.1:${port}`, requests);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }
}

export function problem(
  status: number,
  code: string,
  auditId = 'audit-1',
  headers: Record<string, string> = {},
): CannedAnswer {
  return {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: {
      type: `https://stella-ops.org/problems/signer/${code}`,
      title: code,
      status,
      detail: `refused: ${code}`,
      code,
      auditId,
    },
  };
}
