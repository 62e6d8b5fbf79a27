import { connect, createServer, type Server, type Socket } from 'node:net';
import { TcpProxy } from './tcp-proxy';

/** A loopback echo server: what reaches it comes back, so a test sees both directions. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** Connects through the proxy; `received` collects what comes back, `closed` settles on close. */
async function client(proxy: TcpProxy) {
  const socket: Socket = connect({ host: '127.0.0.1', port: proxy.port });
  const received: string[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const echoed = async (count: number) => {
    while (received.join('').length < count) await new Promise((resolve) => setTimeout(resolve, 5));
    return received.join('');
  };
  return { socket, received, closed, echoed };
}

describe('TcpProxy', () => {
  let echo: { server: Server; port: number };
  let proxy: TcpProxy;

  beforeEach(async () => {
    echo = await echoServer();
    proxy = await TcpProxy.start({ host: '127.0.0.1', port: echo.port });
  });
  afterEach(async () => {
    await proxy.close();
    await new Promise<void>((resolve) => echo.server.close(() => resolve()));
  });

  describe('when open', () => {
    it('forwards both ways and names its own address', async () => {
      const { socket, echoed } = await client(proxy);
      socket.write('PING');
      expect(await echoed(4)).toBe('PING');
      expect(proxy.url('redis')).toBe(`redis://127.0.0.1:${proxy.port}`);
      socket.destroy();
    });
  });

  describe('when delayed', () => {
    it('keeps the order of the chunks it holds', async () => {
      proxy.delayMs = 30;
      const { socket, echoed } = await client(proxy);
      for (const chunk of ['a', 'b', 'c']) socket.write(chunk);
      expect(await echoed(3)).toBe('abc');
      socket.destroy();
    });
  });

  describe('when cut', () => {
    it('drops open connections and refuses new ones until restored', async () => {
      const open = await client(proxy);
      proxy.cut();
      await open.closed;
      const refused = await client(proxy);
      await refused.closed;
      proxy.restore();
      const again = await client(proxy);
      again.socket.write('back');
      expect(await again.echoed(4)).toBe('back');
      again.socket.destroy();
    });
  });

  describe('when a client sends a chunk matching cutWhen', () => {
    it('cuts before that chunk reaches the service', async () => {
      const { socket, received, closed, echoed } = await client(proxy);
      socket.write('SET a');
      expect(await echoed(5)).toBe('SET a');
      proxy.cutWhen((chunk) => chunk.includes('quota:'));
      socket.write('EVAL quota:x');
      await closed;
      expect(received.join('')).toBe('SET a');
    });
  });
});
