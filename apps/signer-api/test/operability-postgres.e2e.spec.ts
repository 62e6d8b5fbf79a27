import { Client, type Pool } from 'pg';
import { createAuditPool, verifyPostgresAudit } from '@signer/infra-store';
import { createThrowawayDatabase, TcpProxy, type ThrowawayDatabase } from '@signer/testing';
import { adminReadyz, type AdminReadyz } from './admin-readyz';
import { Caller, startHarness, validBody, type Harness } from './harness';
import { logRecords, sample } from './operability-harness';

/**
 * The Signer on `audit.sink: postgres`, against the real PostgreSQL through a loopback proxy that
 * the outage test cuts (the shared server itself is never stopped).
 */
describe('audit.sink: postgres (e2e)', () => {
  let db: ThrowawayDatabase;
  let proxy: TcpProxy;
  let harness: Harness;
  let caller: Caller;
  let pool: Pool;

  beforeAll(async () => {
    db = await createThrowawayDatabase('signer_e2e');
    proxy = await TcpProxy.start({ host: '127.0.0.1', port: 5432 });
    harness = await startHarness({
      env: {
        SIGNER__AUDIT__SINK: 'postgres',
        SIGNER__AUDIT__POSTGRESURL: db.urlAs('postgres', '127.0.0.1', proxy.port),
        // Readiness re-checked on every probe: the outage test reads it during and after the cut.
        SIGNER__SERVER__READINESSCACHEMS: '0',
      },
    });
    caller = await Caller.create(harness);
    pool = createAuditPool({ connectionString: db.url, poolSize: 2 });
  }, 60_000);

  afterAll(async () => {
    await harness.close();
    await pool.end();
    await proxy.close();
    await db.drop();
  }, 60_000);

  const signStageCount = async () =>
    sample(
      (await harness.app.inject({ method: 'GET', url: '/metrics' })).body,
      'signer_request_duration_seconds_count',
      {
        stage: 'sign',
      },
    );

  const rowFor = async (auditId: unknown) =>
    (
      await pool.query<{ outcome: string; record: string }>(
        'SELECT outcome, record FROM signer_audit.chain_records WHERE audit_id = $1',
        [auditId],
      )
    ).rows[0];

  describe('when a request is signed', () => {
    it('answers 200 only with its audit row already committed', async () => {
      const response = await caller.sign(validBody(harness));
      expect(response.statusCode).toBe(200);
      const row = await rowFor(response.json().auditId);
      expect(row.outcome).toBe('signed');
      expect(JSON.parse(row.record)).toMatchObject({
        tenant: harness.profile.tenant,
        bundleSha256: expect.any(String),
      });
      await expect(verifyPostgresAudit(pool)).resolves.toMatchObject({ ok: true });
    });
  });

  describe('when requests arrive concurrently', () => {
    it('commits them in shared transactions on one unbroken chain', async () => {
      // Block INSERTs into the trail so every request reaches the audit gate before the first
      // commit can finish: the sink must then need at most two transactions (the blocked one and the rest).
      const blocker = new Client({ connectionString: db.url });
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE signer_audit.chain_records IN SHARE MODE');
      const signedBefore = await signStageCount();
      let answered = 0;
      const pending = Array.from({ length: 24 }, () =>
        caller.sign(validBody(harness)).then((response) => {
          answered += 1;
          return response;
        }),
      );
      for (let attempt = 0; attempt < 400 && (await signStageCount()) < signedBefore + 24; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(await signStageCount()).toBe(signedBefore + 24);
      // Every request is signed but none has answered: no 200 leaves before its row is committed.
      expect(answered).toBe(0);
      await blocker.query('COMMIT');
      await blocker.end();
      const responses = await Promise.all(pending);
      expect(responses.map((r) => r.statusCode)).toEqual(Array(24).fill(200));
      const ids = responses.map((r) => r.json().auditId as string);
      const { rows } = await pool.query<{ transactions: number }>(
        'SELECT count(DISTINCT xmin::text)::int AS transactions FROM signer_audit.chain_records WHERE audit_id = ANY($1)',
        [ids],
      );
      expect(rows[0].transactions).toBeLessThanOrEqual(2);
      await expect(verifyPostgresAudit(pool)).resolves.toMatchObject({ ok: true });
    });
  });

  describe('when PostgreSQL is unreachable', () => {
    let outage: Awaited<ReturnType<Caller['sign']>>;
    let readiness: AdminReadyz;
    let metrics: string;

    beforeAll(async () => {
      proxy.cut();
      outage = await caller.sign(validBody(harness));
      readiness = await adminReadyz(harness.runtime);
      metrics = (await harness.app.inject({ method: 'GET', url: '/metrics' })).body;
      proxy.restore();
    }, 30_000);

    it('answers 503 upstream_unavailable and returns no signature', () => {
      expect(outage.statusCode).toBe(503);
      const body = outage.json();
      expect(body).toMatchObject({ code: 'upstream_unavailable', auditId: expect.any(String) });
      expect(body).not.toHaveProperty('bundle');
      expect(body).not.toHaveProperty('sigstoreBundle');
      expect(outage.body).not.toContain('"sig"');
      expect(outage.headers['retry-after']).toBeDefined();
    });

    it('reports postgres unavailable on the admin /readyz', () => {
      expect(readiness.statusCode).toBe(503);
      expect(readiness.body).toMatchObject({
        status: 'not_ready',
        dependencies: { postgres: 'unavailable' },
      });
    });

    it('counts the audit upstream error and logs it with the upstream named', () => {
      expect(sample(metrics, 'signer_upstream_errors_total', { upstream: 'audit' })).toBeGreaterThanOrEqual(
        1,
      );
      expect(
        logRecords(harness).some(
          (line) => line['upstream'] === 'audit' && line['code'] === 'upstream_unavailable',
        ),
      ).toBe(true);
    });

    it('leaves no audit row for the unsigned decision', async () => {
      await expect(rowFor(outage.json().auditId)).resolves.toBeUndefined();
    });

    it('signs again once PostgreSQL is back, on the same chain', async () => {
      const response = await caller.sign(validBody(harness));
      expect(response.statusCode).toBe(200);
      expect((await adminReadyz(harness.runtime)).body).toMatchObject({
        dependencies: { postgres: 'ok' },
      });
      const { rows } = await pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM signer_audit.chain_records',
      );
      await expect(verifyPostgresAudit(pool)).resolves.toEqual({
        ok: true,
        count: rows[0].n,
        lastHash: expect.any(String),
        chains: expect.any(Number),
        checkpoints: expect.any(Number),
      });
    });
  });
});
