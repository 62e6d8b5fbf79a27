import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of a shared service (PostgreSQL, Redis, a registry) so a test can
 * slow it down or simulate an outage without touching the service others use. `delayMs` holds
 * every chunk that long in both directions (order kept); `cut()` drops every connection and
 * refuses new ones until `restore()`; `cutWhen` cuts the moment a client sends a matching chunk
 * (that chunk never reaches the service).
 */
export class TcpProxy {
  delayMs = 0;
  private readonly sockets = new Set<Socket>();
  private open = true;
  private trigger: ((chunk: string) => boolean) | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const created: { proxy?: TcpProxy } = {};
    const server = createServer((client) => created.proxy?.accept(client, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no TCP port');
    created.proxy = new TcpProxy(server, address.port);
    return created.proxy;
  }

  /** `scheme://127.0.0.1:port`, the address a client is given instead of the service's. */
  url(scheme: string): string {
    return `${scheme}://127.0.0.1:${this.port}`;
  }

  /** Cuts everything when a client→service chunk (as latin1 text, e.g. a RESP command) matches. */
  cutWhen(predicate: (chunk: string) => boolean): void {
    this.trigger = predicate;
  }

  /** Drops every open connection and refuses (accepts, then closes) new ones. */
  cut(): void {
    this.open = false;
    this.trigger = undefined;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.open = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    if (!this.open) {
      client.destroy();
      return;
    }
    const upstream = connect(target);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    this.forward(client, upstream, true);
    this.forward(upstream, client, false);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  private forward(from: Socket, to: Socket, fromClient: boolean): void {
    // Each chunk leaves `delayMs` after it arrived and never before the one ahead of it, so order
    // holds and delays do not add up. One timer drains the queue in order.
    const queue: Array<{ due: number; chunk: Buffer }> = [];
    let timer: NodeJS.Timeout | undefined;
    const drain = () => {
      timer = undefined;
      while (queue.length > 0 && queue[0].due <= Date.now()) {
        const { chunk } = queue.shift() as { chunk: Buffer };
        if (!to.destroyed) to.write(chunk);
      }
      if (queue.length > 0) timer = setTimeout(drain, queue[0].due - Date.now());
    };
    from.on('data', (chunk: Buffer) => {
      if (fromClient && this.trigger?.(chunk.toString('latin1'))) {
        this.cut();
        return;
      }
      if (this.delayMs <= 0 && queue.length === 0) {
        if (!to.destroyed) to.write(chunk);
        return;
      }
      const last = queue.length > 0 ? queue[queue.length - 1].due : 0;
      queue.push({ due: Math.max(Date.now() + this.delayMs, last), chunk });
      if (timer === undefined) timer = setTimeout(drain, queue[0].due - Date.now());
    });
    from.on('close', () => timer && clearTimeout(timer));
  }
}
