import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { SIGN_PATH } from './topology';

const BYTE_INTERVAL_MS = 250;

/**
 * Slowloris-style callers on one replica: half trickle their headers one byte at a time and never
 * finish them, half send complete headers announcing a body and trickle the body. They hold their
 * connections until `release()`; the replica must keep serving everyone else meanwhile.
 */
export class SlowClients {
  private readonly sockets: Socket[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  /** Connections the server closed (or that failed) while they were being held. */
  closedByServer = 0;
  opened = 0;
  /** Each held request's correlation id and when it was opened: the harness's ledger records them. */
  readonly requests: Array<{ id: string; start: number }> = [];

  static hold(port: number, count: number): SlowClients {
    const clients = new SlowClients();
    for (let i = 0; i < count; i += 1) clients.open(port, i % 2 === 0 ? 'headers' : 'body');
    return clients;
  }

  release(): void {
    for (const timer of this.timers) clearInterval(timer);
    for (const socket of this.sockets) {
      socket.removeAllListeners('close');
      socket.destroy();
    }
  }

  private open(port: number, trickle: 'headers' | 'body'): void {
    const socket = connect({ port, host: '127.0.0.1' });
    this.sockets.push(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closedByServer += 1));
    socket.on('data', () => undefined);
    socket.once('connect', () => {
      this.opened += 1;
      const id = `soak-slow-${randomUUID()}`;
      this.requests.push({ id, start: Date.now() });
      const head =
        `POST ${SIGN_PATH} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nx-correlation-id: ${id}\r\n` +
        'content-type: application/json\r\n';
      let pending: string;
      if (trickle === 'headers') {
        pending = `${head}x-slow: ${'a'.repeat(4096)}`;
      } else {
        socket.write(`${head}content-length: 4096\r\n\r\n`);
        pending = `{"subject": "${'b'.repeat(4080)}"}`;
      }
      let offset = 0;
      const timer = setInterval(() => {
        if (offset < pending.length && !socket.destroyed) socket.write(pending[offset++]);
      }, BYTE_INTERVAL_MS);
      this.timers.push(timer);
    });
  }
}
