import { Agent, request } from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** How long the harness waits for any one answer. */
export const CLIENT_TIMEOUT_MS = 15_000;

export interface HttpCall {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs: number;
}

/**
 * An idle kept-alive socket is closed by the harness after this long, well before the Signer's
 * `server.keepAliveTimeoutMs` (5 s): otherwise a request sent on a socket in the instant the server
 * closes it fails with "socket hang up" / ECONNRESET — a client-side race of every keep-alive
 * client, not an answer of the Signer (Node's agent destroys a free socket on this timeout; a
 * request in flight uses its own `timeoutMs`).
 */
const IDLE_SOCKET_MS = 2500;

/**
 * Keep-alive agents per origin. The harness owns its sockets (not fetch's hidden pool), so it can
 * close every one of them before it counts a replica's descriptors.
 */
export class Connections {
  private agents = new Map<string, Agent>();

  agentFor(url: string): Agent {
    const origin = new URL(url).origin;
    let agent = this.agents.get(origin);
    if (!agent) {
      agent = new Agent({ keepAlive: true, maxSockets: 64, timeout: IDLE_SOCKET_MS });
      this.agents.set(origin, agent);
    }
    return agent;
  }

  /** Closes every socket; later calls open new ones. */
  closeAll(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents = new Map();
  }

  /** One HTTP exchange; rejects on a transport failure (refused, reset, timeout). */
  send(call: HttpCall): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const req = request(
        call.url,
        {
          method: call.method,
          headers: call.headers,
          agent: this.agentFor(call.url),
          timeout: call.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout after ${call.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(call.body);
    });
  }
}
