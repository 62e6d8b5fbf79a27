import { connect, type AddressInfo, type Socket } from 'node:net';
import { SIGN_PATH, startHarness, type Harness } from './harness';

/** Collects what the server sends on a raw socket until it closes (or the deadline passes). */
function untilClosed(socket: Socket, deadlineMs: number): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    let data = '';
    const timer = setTimeout(() => resolve({ data, closed: false }), deadlineMs);
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data, closed: true });
    });
    socket.on('error', () => undefined);
  });
}

describe('a client that sends its request too slowly (server.requestTimeoutMs)', () => {
  let harness: Harness;
  let port: number;

  beforeAll(async () => {
    harness = await startHarness({ env: { SIGNER__SERVER__REQUESTTIMEOUTMS: '1000' } });
    await harness.app.listen({ host: '127.0.0.1', port: 0 });
    port = (harness.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(() => harness.close());

  it('is answered 408 and disconnected, while other callers are served and nothing is signed', async () => {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const outcome = untilClosed(socket, 10_000);
    socket.write(
      `POST ${SIGN_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{`,
    );
    // One byte every 200 ms: the connection is never idle, but the request never completes.
    const trickle = setInterval(() => socket.writable && socket.write(' '), 200);
    try {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) });
      expect(health.status).toBe(200);
      const { data, closed } = await outcome;
      expect(closed).toBe(true);
      expect(data).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
    expect(harness.auditLines().filter((line) => line['outcome'] === 'signed')).toEqual([]);
  });
});
