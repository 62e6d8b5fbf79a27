import type { Server, ServerResponse } from 'node:http';
import { closeServer, startLoopbackServer } from '../kms/loopback-http';

/** How one endless answer ended: the client hung up first, or the test's safety bound was reached. */
export interface EndlessAnswer {
  /** Bytes the server's socket accepted (written with back-pressure). */
  written: number;
  outcome: 'client-closed' | 'bound-reached';
}

/**
 * A loopback upstream (a JWKS, a discovery document, Licensing) that answers every request 200 with
 * a chunked body that never ends — JSON whitespace, so a parser cannot tell it from the start of a
 * real document — until `boundBytes`, the test's safety bound. A client that reads with a running
 * byte limit hangs up near its limit (`client-closed`); one that reads whole runs to the bound.
 */
export class EndlessBodyServer {
  readonly answers: EndlessAnswer[] = [];
  private readonly wakers: Array<() => void> = [];

  private constructor(
    private readonly server: Server,
    /** Base URL (`http://127.0.0.1:<port>`); every path is served alike. */
    readonly url: string,
  ) {}

  static async start(options: { boundBytes: number; chunkBytes?: number }): Promise<EndlessBodyServer> {
    const self: { server?: EndlessBodyServer } = {};
    const { server, port } = await startLoopbackServer((_request, _body, response) =>
      (self.server as EndlessBodyServer).stream(response, options.boundBytes, options.chunkBytes ?? 16384),
    );
    self.server = new EndlessBodyServer(server, `http://127.0.0.1:${port}`);
    return self.server;
  }

  /** Resolves with the `index`-th answer (0: the first) once it has ended. */
  async answerEnded(index = 0): Promise<EndlessAnswer> {
    while (!this.answers[index]) await new Promise<void>((wake) => this.wakers.push(wake));
    return this.answers[index];
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private stream(response: ServerResponse, bound: number, chunkBytes: number): void {
    const chunk = Buffer.alloc(chunkBytes, 0x20);
    let written = 0;
    let ended = false;
    response.on('close', () => {
      ended = true;
      this.answers.push({ written, outcome: response.writableFinished ? 'bound-reached' : 'client-closed' });
      for (const wake of this.wakers.splice(0)) wake();
    });
    response.writeHead(200, { 'content-type': 'application/json' }); // no length: chunked
    const pump = () => {
      while (!ended && written < bound) {
        written += chunk.length;
        if (!response.write(chunk)) {
          response.once('drain', pump);
          return;
        }
      }
      if (!ended) response.end();
    };
    pump();
  }
}
