import { createServer as createHttpServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { FakeAwsKms } from '@signer/testing';
import { adminReadyz } from './admin-readyz';
import { AuthorityHarness } from './authority-harness';
import { useAwsCredentials } from './signing-fixtures';
import { startAdminServer } from '../src/http/admin-server';

jest.setTimeout(30_000);

/** A registry that counts `GET /v2/` and, when told to, holds every answer until released. */
class CountingRegistry {
  probes = 0;
  hold = false;
  private held: ServerResponse[] = [];
  private constructor(private readonly server: Server) {}

  static async start(): Promise<CountingRegistry> {
    const self: { registry?: CountingRegistry } = {};
    const server = createHttpServer((request, response) => {
      const registry = self.registry as CountingRegistry;
      if (request.url === '/v2/') registry.probes += 1;
      if (registry.hold) registry.held.push(response);
      else response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self.registry = new CountingRegistry(server);
    return self.registry;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  release(): void {
    this.hold = false;
    for (const response of this.held.splice(0)) response.writeHead(200).end('{}');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Licensing's readiness is a TCP connect: count connections at a loopback listener. */
async function countingListener(): Promise<{ server: TcpServer; port: number; connections: () => number }> {
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, connections: () => connections };
}

/**
 * `/readyz` is unauthenticated: a flood of it must not turn into a flood of KMS `GetPublicKey`
 * (the quota signing needs), registry or Licensing calls. Counted at the wire, on the real app.
 */
describe('readiness under load (cached, single flight, detail for operators only)', () => {
  let aws: FakeAwsKms;
  let restoreEnv: () => void;
  let registry: CountingRegistry;
  let licensing: Awaited<ReturnType<typeof countingListener>>;
  let h: AuthorityHarness;

  beforeAll(async () => {
    aws = await FakeAwsKms.start();
    restoreEnv = useAwsCredentials(aws.credentials, aws.region);
    registry = await CountingRegistry.start();
    licensing = await countingListener();
    const key = aws.createKey('ECC_NIST_P256');
    h = await AuthorityHarness.start({
      // A hung registry probe stays pending well past the readiness timeout (2 s).
      env: { SIGNER__RELEASEINTEGRITY__TIMEOUTMS: '20000' },
      configure: (raw) => {
        const signing = raw['signing'] as { keys: Record<string, unknown> };
        signing.keys['aws'] = { ref: `awskms://${key.arn}`, endpoint: aws.endpoint };
        const { ociLayoutPath: _layout, ...releaseIntegrity } = raw['releaseIntegrity'];
        raw['releaseIntegrity'] = { ...releaseIntegrity, registryUrl: registry.url };
        const { offlineJwksFile: _keys, ...rest } = raw['licensing'];
        raw['licensing'] = { ...rest, introspectUrl: `http://127.0.0.1:${licensing.port}/introspect` };
      },
    });
  });
  afterAll(async () => {
    await h.close();
    restoreEnv();
    await Promise.all([aws.close(), registry.close()]);
    await new Promise((resolve) => licensing.server.close(resolve));
  });

  const kmsProbes = () => aws.calls.filter((call) => call.target === 'GetPublicKey').length;
  const counts = () => ({ kms: kmsProbes(), registry: registry.probes, licensing: licensing.connections() });
  const publicReadyz = () => h.app.inject({ method: 'GET', url: '/readyz' });
  const flood = (n: number) => Promise.all(Array.from({ length: n }, publicReadyz));

  describe('when 50 anonymous /readyz requests arrive at once, then 50 more within the window', () => {
    it('checks each dependency exactly once', async () => {
      const before = counts();
      const first = await flood(50);
      const again = [];
      for (let i = 0; i < 50; i += 1) again.push(await publicReadyz());
      expect([...first, ...again].map((r) => r.statusCode)).toEqual(Array(100).fill(200));
      expect(counts()).toEqual({
        kms: before.kms + 1,
        registry: before.registry + 1,
        licensing: before.licensing + 1,
      });
    });

    it('answers only ready or not: the public body names no dependency', async () => {
      const response = await publicReadyz();
      expect(response.json()).toEqual({ status: 'ready' });
      expect(response.body).not.toMatch(/kms|registry|licensing|dependencies/);
    });
  });

  describe('when an operator asks the admin listener', () => {
    it('names each dependency, from the same cached round', async () => {
      const before = counts();
      const admin = await adminReadyz(h.runtime);
      expect(admin.statusCode).toBe(200);
      expect(admin.body).toMatchObject({
        status: 'ready',
        dependencies: { 'kms:aws': 'ok', 'release-registry': 'ok', licensing: 'ok' },
      });
      expect(counts()).toEqual(before);
    });

    it('serves nothing else: 404 for another path, 405 with Allow for another method', async () => {
      const admin = await startAdminServer(h.runtime.readiness, { host: '127.0.0.1', port: 0 });
      try {
        const base = `http://127.0.0.1:${admin.port}`;
        expect((await fetch(`${base}/api/v1/signer/keys`)).status).toBe(404);
        const post = await fetch(`${base}/readyz`, { method: 'POST' });
        expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
      } finally {
        await admin.close();
      }
    });
  });

  describe('when the window has passed', () => {
    it('checks each dependency once more for the next flood', async () => {
      const before = counts();
      h.clock.advanceSeconds(6);
      await flood(30);
      expect(counts()).toEqual({
        kms: before.kms + 1,
        registry: before.registry + 1,
        licensing: before.licensing + 1,
      });
    });
  });

  describe('when a dependency hangs', () => {
    it('answers 503 after the timeout, and floods over several windows make no second call to it', async () => {
      registry.hold = true;
      const before = counts();
      for (let window = 0; window < 2; window += 1) {
        h.clock.advanceSeconds(6);
        const answers = await flood(30);
        expect(answers.map((r) => r.statusCode)).toEqual(Array(30).fill(503));
        expect(answers[0].json()).toEqual({ status: 'not_ready' });
      }
      expect(counts()).toEqual({
        kms: before.kms + 2,
        registry: before.registry + 1,
        licensing: before.licensing + 2,
      });
      expect((await adminReadyz(h.runtime)).body.dependencies).toMatchObject({
        'release-registry': 'unavailable',
        'kms:aws': 'ok',
      });

      registry.release();
      h.clock.advanceSeconds(6);
      await publicReadyz();
      h.clock.advanceSeconds(6);
      expect((await publicReadyz()).statusCode).toBe(200);
      expect(registry.probes).toBe(before.registry + 2);
    });
  });
});
