import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@signer/testing';
import { loadConfig } from '../src/config/load-config';
import { createApp } from '../src/http/create-app';
import { createLogger } from '../src/observability/logger';
import { createRuntime, type SignerRuntime } from '../src/wiring/create-runtime';
import { Caller, LogCapture, startHarness, type Harness } from './harness';

jest.setTimeout(60_000);

const BASE = '/api/v1/signer/ceremonies';

/** Two replicas on one PostgreSQL state store: votes sent to both at once all count. */
describe('ceremonies on two replicas sharing PostgreSQL', () => {
  let db: ThrowawayDatabase;
  let replicaA: Harness;
  let runtimeB: SignerRuntime;
  let appB: NestFastifyApplication;
  let onB: Harness;

  beforeAll(async () => {
    db = await createThrowawayDatabase('signer_ceremony_replicas');
    const state = { store: 'postgres', postgresUrl: db.url };
    replicaA = await startHarness({ configure: (raw) => void (raw['state'] = state) });
    // Same configuration, its own audit file (a file trail has one writer).
    const config = loadConfig(replicaA.profile.configPath, {
      SIGNER__AUDIT__FILEPATH: join(replicaA.dir, 'audit/replica-b.jsonl'),
    });
    runtimeB = await createRuntime(config);
    appB = await createApp(runtimeB, { logger: createLogger({ destination: new LogCapture() }) });
    onB = { ...replicaA, runtime: runtimeB, app: appB };
  });

  afterAll(async () => {
    await appB?.close();
    await runtimeB?.close();
    await replicaA?.close();
    await db?.drop();
  });

  it('counts two approvals sent to two replicas at the same moment, every time', async () => {
    const initiator = await Caller.create(replicaA, {
      subject: 'ops-alice',
      scope: 'signer.ceremony.initiate',
    });
    for (let round = 0; round < 5; round += 1) {
      const bob = await Caller.create(replicaA, {
        subject: `ops-bob-${round}`,
        scope: 'signer.ceremony.approve',
      });
      const carol = await Caller.create(onB, {
        subject: `ops-carol-${round}`,
        scope: 'signer.ceremony.approve',
      });
      const created = await initiator.send('POST', BASE, {
        operation: { kind: 'key.set-default', name: 'default', plan: `plan-${round}` },
      });
      expect(created.statusCode).toBe(201);
      const id = created.json().id as string;
      const answers = await Promise.all([
        bob.send('POST', `${BASE}/${id}/approve`),
        carol.send('POST', `${BASE}/${id}/approve`),
      ]);
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200]);
      const stored = (await carol.send('GET', `${BASE}/${id}`)).json();
      // Each commit, and each clearing of its written records from the outbox, is a revision.
      expect(stored).toMatchObject({ status: 'approved', revision: 6 });
      expect(stored.approvals.map((v: { principal: { sub: string } }) => v.principal.sub).sort()).toEqual([
        `ops-bob-${round}`,
        `ops-carol-${round}`,
      ]);
    }
    const rows = await db.sql<{ n: string }>(
      "SELECT count(*) AS n FROM signer_ceremonies.ceremonies WHERE status = 'approved'",
    );
    expect(Number(rows[0].n)).toBe(5);
  });

  it('executes on one replica what was approved on the other', async () => {
    const initiator = await Caller.create(onB, { subject: 'ops-alice', scope: 'signer.ceremony.initiate' });
    const bob = await Caller.create(replicaA, { subject: 'ops-bob', scope: 'signer.ceremony.approve' });
    const carol = await Caller.create(replicaA, { subject: 'ops-carol', scope: 'signer.ceremony.approve' });
    const id = (
      await initiator.send('POST', BASE, {
        operation: { kind: 'key.set-default', name: 'default', plan: 'team' },
      })
    ).json().id as string;
    await bob.send('POST', `${BASE}/${id}/approve`);
    await carol.send('POST', `${BASE}/${id}/approve`);
    const executed = await initiator.send('POST', `${BASE}/${id}/execute`);
    expect(executed.statusCode).toBe(200);
    expect(executed.json()).toMatchObject({ status: 'executed' });
    const stored = await db.sql<{ document: string }>('SELECT document FROM signer_state.managed_state');
    expect(JSON.parse(stored[0].document).defaults.plans).toMatchObject({ team: 'default' });
  });
});
