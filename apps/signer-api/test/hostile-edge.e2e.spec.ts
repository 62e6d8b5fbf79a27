import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Caller, SIGN_PATH, startHarness, validBody, type Harness } from './harness';

jest.setTimeout(30_000);

/** Bytes the audit file holds now. */
const trailBytes = (harness: Harness): number =>
  harness.auditLines().reduce((sum, line) => sum + Buffer.byteLength(JSON.stringify(line)) + 1, 0);

describe('the HTTP edge under hostile traffic', () => {
  describe('when an anonymous caller requests an unknown route with a 15 KB path', () => {
    let harness: Harness;
    beforeAll(async () => {
      harness = await startHarness();
    });
    afterAll(() => harness.close());

    it('answers 404 problem+json and audits a small record under a fixed route name', async () => {
      const path = `/${'a'.repeat(15_000)}`;
      const before = trailBytes(harness);
      const response = await harness.app.inject({ method: 'GET', url: path });
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toContain('application/problem+json');
      const problem = response.json();
      expect(problem).toMatchObject({ code: 'invalid_request', status: 404 });
      expect(problem.instance.length).toBeLessThanOrEqual(256);
      const record = harness.auditLines().find((line) => line['auditId'] === problem.auditId);
      expect(record).toMatchObject({ route: 'unmatched', outcome: 'invalid_request' });
      expect(trailBytes(harness) - before).toBeLessThan(1024);
      expect(harness.logs.lines.join('\n')).not.toContain('a'.repeat(600));
    });

    it('answers 405 with Allow for a known path and the wrong method', async () => {
      const response = await harness.app.inject({ method: 'DELETE', url: SIGN_PATH });
      expect(response.statusCode).toBe(405);
      expect(response.headers['allow']).toBe('POST');
      const problem = response.json();
      expect(problem).toMatchObject({ code: 'invalid_request', status: 405 });
      const record = harness.auditLines().find((line) => line['auditId'] === problem.auditId);
      expect(record).toMatchObject({ route: `DELETE ${SIGN_PATH}`, outcome: 'invalid_request' });
    });

    it('lists every method of a GET path in Allow', async () => {
      const response = await harness.app.inject({ method: 'POST', url: '/healthz' });
      expect(response.statusCode).toBe(405);
      expect(response.headers['allow']).toBe('GET, HEAD');
    });
  });

  describe('when anonymous refusals arrive faster than their per-second budget', () => {
    let harness: Harness;
    beforeAll(async () => {
      harness = await startHarness({
        configure: (config) => void (config['audit']['anonymousRecordsPerSecond'] = 5),
      });
    });
    afterAll(() => harness.close());

    it('writes at most the budget of own records plus one summary per second, and every auditId is in the trail', async () => {
      const before = harness.auditLines().length;
      const responses = await Promise.all(
        Array.from({ length: 200 }, (_, n) =>
          harness.app.inject({ method: 'GET', url: `/${'x'.repeat(4000)}/${n}` }),
        ),
      );
      expect(responses.every((r) => r.statusCode === 404)).toBe(true);
      await harness.runtime.decisions.close();
      const written = harness.auditLines().slice(before);
      const summaries = written.filter((r) => r['outcome'] === 'summary');
      expect(written.length - summaries.length).toBeLessThanOrEqual(5 + 5);
      expect(summaries.length).toBeGreaterThanOrEqual(1);
      expect(summaries.reduce((n, r) => n + (r['summary'] as { refusals: number }).refusals, 0)).toBe(
        200 - (written.length - summaries.length),
      );
      const ids = new Set(harness.auditLines().map((r) => r['auditId']));
      expect(responses.every((r) => ids.has(r.json().auditId))).toBe(true);
    });

    it('still gives an authenticated caller its own record for every refusal', async () => {
      const caller = await Caller.create(harness);
      const refusals = [];
      for (let n = 0; n < 12; n += 1)
        refusals.push(await caller.sign(validBody(harness, { predicateType: 'x/1' })));
      expect(refusals.every((r) => r.statusCode === 422)).toBe(true);
      const ids = refusals.map((r) => r.json().auditId);
      expect(new Set(ids).size).toBe(12);
      const records = harness.auditLines();
      expect(
        ids.every((id) =>
          records.some((r) => r['auditId'] === id && r['outcome'] === 'predicate_unsupported'),
        ),
      ).toBe(true);
    });
  });

  describe('when a body carries a lone surrogate in a field the record keeps', () => {
    let harness: Harness;
    beforeAll(async () => {
      harness = await startHarness();
    });
    afterAll(() => harness.close());

    it('refuses it with an auditId that is in the trail', async () => {
      const caller = await Caller.create(harness);
      const response = await caller.sign(validBody(harness, { predicateType: 'p\ud800/1' }));
      expect(response.statusCode).toBeGreaterThanOrEqual(400);
      const problem = response.json();
      const record = harness.auditLines().find((line) => line['auditId'] === problem.auditId);
      expect(record).toMatchObject({ outcome: problem.code, predicateType: 'p\ufffd/1' });
    });
  });

  describe('when a large body comes with a bad token', () => {
    let harness: Harness;
    beforeAll(async () => {
      harness = await startHarness();
    });
    afterAll(() => harness.close());

    it('is refused before its statement is canonicalised', async () => {
      const predicate = { items: Array.from({ length: 20_000 }, (_, n) => ({ n, text: 'x'.repeat(16) })) };
      const response = await harness.app.inject({
        method: 'POST',
        url: SIGN_PATH,
        headers: { 'content-type': 'application/json', authorization: 'DPoP not-a-token', dpop: 'x' },
        payload: JSON.stringify(validBody(harness, { predicate })),
      });
      expect(response.statusCode).toBe(401);
      const record = harness.auditLines().find((line) => line['auditId'] === response.json().auditId);
      // One body gate (schema and statement checks), then the token: no canonicalisation gate ran.
      expect(record?.['gates']).toEqual({ body: 'pass', optok: 'invalid_token' });
      expect(record?.['subjectDigests']).toEqual([`sha256:${'ab'.repeat(32)}`]);
    });
  });

  describe('when clients hold connections open', () => {
    let harness: Harness;
    let port: number;
    beforeAll(async () => {
      harness = await startHarness({
        configure: (config) => {
          config['server']['keepAliveTimeoutMs'] = 1000;
          config['server']['maxConnections'] = 16;
        },
      });
      await harness.app.listen({ port: 0, host: '127.0.0.1' });
      port = (harness.app.getHttpServer().address() as AddressInfo).port;
    });
    afterAll(() => harness.close());

    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => resolve(socket));
        socket.once('error', reject);
      });
    const closed = (socket: Socket): Promise<number> => {
      const started = Date.now();
      return new Promise((resolve) => socket.once('close', () => resolve(Date.now() - started)));
    };

    it('closes an idle keep-alive connection after server.keepAliveTimeoutMs', async () => {
      const socket = await open();
      const answered = new Promise<string>((resolve) => socket.once('data', (d) => resolve(d.toString())));
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
      expect(await answered).toMatch(/^HTTP\/1\.1 200/);
      const idleFor = await closed(socket);
      expect(idleFor).toBeGreaterThanOrEqual(900);
      expect(idleFor).toBeLessThan(10_000);
    });

    it('drops connections past server.maxConnections at accept', async () => {
      const sockets = await Promise.all(Array.from({ length: 16 }, () => open()));
      const extra = await open();
      const outcome = await new Promise<string>((resolve) => {
        extra.once('data', () => resolve('answered'));
        extra.once('close', () => resolve('closed'));
        extra.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      expect(outcome).toBe('closed');
      sockets.forEach((s) => s.destroy());
      extra.destroy();
    });
  });
});
