import { join } from 'node:path';
import { SignerError } from '@signer/core';
import { verifyAuditFile } from '@signer/infra-store';
import Ajv from 'ajv';
import { CeremonyListSchema, CeremonySchema } from '../src/http/response.schemas';
import { ManualClock } from '@signer/testing';
import { Caller, startHarness, validBody, type Harness } from './harness';
import { expectProblem } from './problem';

const BASE = '/api/v1/signer/ceremonies';
const INITIATE = 'signer.ceremony.initiate';
const APPROVE = 'signer.ceremony.approve';
const ajv = new Ajv({ strict: false });
const validCeremony = ajv.compile(CeremonySchema);
const validList = ajv.compile(CeremonyListSchema);

describe('ceremonies over HTTP (2-of-3 dual control)', () => {
  let harness: Harness;
  let initiator: Caller;
  let approverA: Caller;
  let approverB: Caller;
  let signerOnly: Caller;

  beforeAll(async () => {
    harness = await startHarness();
    initiator = await Caller.create(harness, { subject: 'ops-alice', scope: INITIATE });
    approverA = await Caller.create(harness, { subject: 'ops-bob', scope: APPROVE });
    approverB = await Caller.create(harness, { subject: 'ops-carol', scope: APPROVE });
    signerOnly = await Caller.create(harness, { subject: 'svc-scanner-web', scope: 'signer.sign' });
  });

  afterAll(async () => {
    await harness?.close();
  });

  const ceremonyRecords = (id: string): Array<Record<string, unknown>> =>
    harness
      .auditLines()
      .filter((r) => (r['ceremony'] as { id?: string } | undefined)?.id === id)
      .map((r) => ({ outcome: r['outcome'], ...(r['ceremony'] as Record<string, unknown>) }));

  describe('when a key is revoked by one initiator and two approvers', () => {
    let id: string;

    it('creates the ceremony: 201, pending, threshold 2', async () => {
      const response = await initiator.send('POST', BASE, {
        operation: { kind: 'key.revoke', name: 'default', reason: 'key file leaked' },
      });
      expect(response.statusCode).toBe(201);
      const body = response.json();
      expect(validCeremony(body)).toBe(true);
      expect(body).toMatchObject({
        status: 'pending',
        threshold: 2,
        initiator: { sub: 'ops-alice', tenant: harness.profile.tenant },
        approvals: [],
      });
      id = body.id;
    });

    it('refuses the initiator approving their own ceremony with 403 ceremony_self_approval', async () => {
      // The initiator holding the approve scope too (another token of the same subject).
      const alsoApprover = await Caller.create(harness, {
        subject: 'ops-alice',
        scope: `${INITIATE} ${APPROVE}`,
      });
      expectProblem(await alsoApprover.send('POST', `${BASE}/${id}/approve`), 403, 'ceremony_self_approval');
    });

    it('refuses an approval without the approve scope with 403 insufficient_scope', async () => {
      const response = await signerOnly.send('POST', `${BASE}/${id}/approve`);
      expectProblem(response, 403, 'insufficient_scope');
      expect(response.headers['www-authenticate']).toContain('insufficient_scope');
      expect(response.headers['www-authenticate']).toContain('scope="signer.ceremony.approve"');
      expectProblem(await initiator.send('POST', `${BASE}/${id}/approve`), 403, 'insufficient_scope');
    });

    it('refuses executing before the threshold with 409 ceremony_threshold_not_met', async () => {
      expect((await approverA.send('POST', `${BASE}/${id}/approve`)).json()).toMatchObject({
        status: 'pending',
        approvals: [{ principal: { sub: 'ops-bob' } }],
      });
      expectProblem(await initiator.send('POST', `${BASE}/${id}/execute`), 409, 'ceremony_threshold_not_met');
      expectProblem(await approverA.send('POST', `${BASE}/${id}/approve`), 409, 'ceremony_duplicate_vote');
    });

    it('reaches the threshold with the second approver and executes: the key is revoked', async () => {
      const approved = await approverB.send('POST', `${BASE}/${id}/approve`);
      expect(approved.statusCode).toBe(200);
      expect(approved.json()).toMatchObject({ status: 'approved' });
      const executed = await initiator.send('POST', `${BASE}/${id}/execute`);
      expect(executed.statusCode).toBe(200);
      const body = executed.json();
      expect(validCeremony(body)).toBe(true);
      expect(body).toMatchObject({ status: 'executed', executedBy: { sub: 'ops-alice' } });
      expect(body.resultVersion).toBeGreaterThan(1);
      const key = harness.runtime.keys.view.snapshot().keys.find((k) => k.name === 'default');
      expect(key).toMatchObject({ state: 'revoked', revocationReason: 'key file leaked' });
      expect(key?.history.at(-1)).toMatchObject({ state: 'revoked', ceremonyId: id });
      // The revoked key no longer signs.
      expect(
        (await signerOnly.send('POST', '/api/v1/signer/sign/dsse', validBody(harness))).statusCode,
      ).not.toBe(200);
    });

    it('reads the ceremony back, and lists it by status', async () => {
      const got = await approverA.send('GET', `${BASE}/${id}`);
      expect(got.statusCode).toBe(200);
      expect(got.json()).toMatchObject({ id, status: 'executed', approvals: [{}, {}] });
      const listed = await initiator.send('GET', `${BASE}?status=executed&limit=5`);
      expect(listed.statusCode).toBe(200);
      expect(validList(listed.json())).toBe(true);
      expect(listed.json().ceremonies.map((c: { id: string }) => c.id)).toContain(id);
    });

    it('writes every event as a ceremony record, and the trail verifies', async () => {
      expect(ceremonyRecords(id).filter((r) => r.outcome === 'ceremony')).toEqual([
        {
          outcome: 'ceremony',
          id,
          event: 'initiated',
          operation: 'key.revoke',
          target: 'default',
          approvals: 0,
          threshold: 2,
        },
        {
          outcome: 'ceremony',
          id,
          event: 'approved',
          operation: 'key.revoke',
          target: 'default',
          approvals: 1,
          threshold: 2,
        },
        {
          outcome: 'ceremony',
          id,
          event: 'approved',
          operation: 'key.revoke',
          target: 'default',
          approvals: 2,
          threshold: 2,
        },
        {
          outcome: 'ceremony',
          id,
          event: 'threshold_reached',
          operation: 'key.revoke',
          target: 'default',
          approvals: 2,
          threshold: 2,
        },
        {
          outcome: 'ceremony',
          id,
          event: 'executed',
          operation: 'key.revoke',
          target: 'default',
          approvals: 2,
          threshold: 2,
        },
      ]);
      const refusals = ceremonyRecords(id)
        // Each caller's first request meets the DPoP nonce dance (audited as use_dpop_nonce).
        .filter((r) => !['ceremony', 'checked', 'use_dpop_nonce'].includes(r.outcome as string))
        .map((r) => r.outcome);
      expect(refusals).toEqual([
        'ceremony_self_approval',
        'insufficient_scope',
        'insufficient_scope',
        'ceremony_threshold_not_met',
        'ceremony_duplicate_vote',
      ]);
      const approvedBy = harness
        .auditLines()
        .filter((r) => (r['ceremony'] as { event?: string } | undefined)?.event === 'threshold_reached')
        .map((r) => (r['caller'] as { sub: string }).sub);
      expect(approvedBy).toEqual(['ops-carol']);
      await expect(verifyAuditFile(join(harness.dir, 'audit/audit.jsonl'))).resolves.toMatchObject({
        ok: true,
      });
    });
  });

  describe('when a ceremony is rejected or cancelled', () => {
    it('lets one rejection veto it, and then refuses further steps with 409 ceremony_state_conflict', async () => {
      const created = await initiator.send('POST', BASE, {
        operation: { kind: 'key.set-default', name: 'default', plan: 'team' },
      });
      const id = created.json().id;
      const rejected = await approverA.send('POST', `${BASE}/${id}/reject`, { reason: 'wrong plan' });
      expect(rejected.json()).toMatchObject({ status: 'rejected', rejections: [{ reason: 'wrong plan' }] });
      expectProblem(await approverB.send('POST', `${BASE}/${id}/approve`), 409, 'ceremony_state_conflict');
      expect(ceremonyRecords(id).map((r) => r.event ?? r.outcome)).toEqual([
        'initiated',
        'rejected',
        'ceremony_state_conflict',
      ]);
    });

    it('lets only the initiator cancel', async () => {
      const created = await initiator.send('POST', BASE, {
        operation: { kind: 'trust-anchor.remove', keyId: `sha256:${'ab'.repeat(32)}` },
      });
      const id = created.json().id;
      expectProblem(await approverA.send('POST', `${BASE}/${id}/cancel`), 403, 'insufficient_scope');
      const cancelled = await initiator.send('POST', `${BASE}/${id}/cancel`);
      expect(cancelled.json()).toMatchObject({ status: 'cancelled' });
      expect(
        ceremonyRecords(id)
          .filter((r) => r['outcome'] === 'ceremony')
          .map((r) => r['event']),
      ).toEqual(['initiated', 'cancelled']);
    });
  });

  describe('when the request is malformed', () => {
    it('refuses a bad id before any store access with 400 invalid_request', async () => {
      expectProblem(await approverA.send('POST', `${BASE}/not-a-uuid/approve`), 400, 'invalid_request');
      expectProblem(
        await approverA.send('GET', `${BASE}/00000000-0000-7000-8000-00000000000G`),
        400,
        'invalid_request',
      );
    });

    it('answers an unknown id with 404 ceremony_not_found', async () => {
      expectProblem(
        await approverA.send('GET', `${BASE}/01900000-0000-7000-8000-000000000000`),
        404,
        'ceremony_not_found',
      );
    });

    it('refuses a bad operation, an unknown field and a reason-less rejection with 400 invalid_request', async () => {
      const badName = expectProblem(
        await initiator.send('POST', BASE, {
          operation: { kind: 'key.revoke', name: '../etc', reason: 'x' },
        }),
        400,
        'invalid_request',
      );
      expect(badName['detail']).toContain('body.operation.name');
      expectProblem(
        await initiator.send('POST', BASE, {
          operation: { kind: 'key.activate', name: 'default', extra: 1 },
        }),
        400,
        'invalid_request',
      );
      expectProblem(
        await initiator.send('POST', BASE, { operation: { kind: 'key.delete', name: 'x' } }),
        400,
        'invalid_request',
      );
      expectProblem(
        await initiator.send('POST', BASE, {
          operation: {
            kind: 'trust-anchor.add',
            publicKeyPem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'.padEnd(80, ' '),
          },
        }),
        400,
        'invalid_request',
      );
      const created = await initiator.send('POST', BASE, {
        operation: { kind: 'key.activate', name: 'default' },
      });
      expectProblem(
        await approverA.send('POST', `${BASE}/${created.json().id}/reject`, {}),
        400,
        'invalid_request',
      );
    });

    it('bounds list: limit above 100 or an unknown status is 400 invalid_request', async () => {
      expectProblem(await approverA.send('GET', `${BASE}?limit=101`), 400, 'invalid_request');
      expectProblem(await approverA.send('GET', `${BASE}?status=done`), 400, 'invalid_request');
    });

    it('refuses reading ceremonies with only the signing scope', async () => {
      expectProblem(await signerOnly.send('GET', BASE), 403, 'insufficient_scope');
    });
  });
});

describe('ceremonies over HTTP past their expiry', () => {
  let harness: Harness;
  const clock = new ManualClock();

  beforeAll(async () => {
    harness = await startHarness({
      clock,
      configure: (raw) => {
        raw['ceremonies'] = { operations: { 'key.revoke': { approvals: 2, expirySeconds: 60 } } };
        // Tokens and proofs come from the real clock; the Signer's runs 61 s ahead after the advance.
        raw['authority']['clockSkewSeconds'] = 300;
      },
    });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('answers 410 ceremony_expired to the next step, stores it expired and records the expiry once', async () => {
    const initiator = await Caller.create(harness, { subject: 'ops-alice', scope: INITIATE });
    const bob = await Caller.create(harness, { subject: 'ops-bob', scope: APPROVE });
    const carol = await Caller.create(harness, { subject: 'ops-carol', scope: APPROVE });
    const created = await initiator.send('POST', BASE, {
      operation: { kind: 'key.revoke', name: 'default', reason: 'rotation drill' },
    });
    const id = created.json().id as string;
    expect(Date.parse(created.json().expiresAt) - Date.parse(created.json().createdAt)).toBe(60_000);
    await bob.send('POST', `${BASE}/${id}/approve`);
    clock.advanceMs(61_000);
    expectProblem(await carol.send('POST', `${BASE}/${id}/approve`), 410, 'ceremony_expired');
    expectProblem(await initiator.send('POST', `${BASE}/${id}/execute`), 410, 'ceremony_expired');
    expect((await bob.send('GET', `${BASE}/${id}`)).json()).toMatchObject({ status: 'expired' });
    const events = harness
      .auditLines()
      .filter((r) => r['outcome'] === 'ceremony' && (r['ceremony'] as { id: string }).id === id)
      .map((r) => (r['ceremony'] as { event: string }).event);
    expect(events).toEqual(['initiated', 'approved', 'expired']);
    expect(harness.runtime.keys.view.snapshot().keys.find((k) => k.name === 'default')?.state).toBe('active');
  });
});

describe('ceremonies over HTTP past ceremonies.maxOpenPerInitiator', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({
      configure: (raw) => {
        raw['ceremonies'] = { maxOpenPerInitiator: 2 };
      },
    });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('answers 429 plan_throttled with Retry-After, audits the refusal, and admits others', async () => {
    const initiator = await Caller.create(harness, { subject: 'ops-alice', scope: INITIATE });
    const other = await Caller.create(harness, { subject: 'ops-frank', scope: INITIATE });
    const create = (caller: Caller) =>
      caller.send('POST', BASE, { operation: { kind: 'key.retire', name: 'default' } });
    const first = await create(initiator);
    expect(first.statusCode).toBe(201);
    expect((await create(initiator)).statusCode).toBe(201);

    const refused = await create(initiator);
    const problem = expectProblem(refused, 429, 'plan_throttled');
    expect(refused.headers['retry-after']).toBe('60');
    expect(problem['detail']).toContain('expected at most 2 open ceremonies per initiator, got 2 open');
    const record = harness.auditLines().find((r) => r['auditId'] === problem['auditId']);
    expect(record).toMatchObject({
      outcome: 'plan_throttled',
      route: `POST ${BASE}`,
      caller: { sub: 'ops-alice' },
      gates: { quota: 'plan_throttled' },
    });
    const pending = (await initiator.send('GET', `${BASE}?status=pending`)).json().ceremonies as unknown[];
    expect(pending).toHaveLength(2);

    expect((await create(other)).statusCode).toBe(201);
    expect((await initiator.send('POST', `${BASE}/${first.json().id}/cancel`)).statusCode).toBe(200);
    expect((await create(initiator)).statusCode).toBe(201);
    await expect(verifyAuditFile(join(harness.dir, 'audit/audit.jsonl'))).resolves.toMatchObject({
      ok: true,
    });
  });
});

describe('ceremonies over HTTP when the audit trail fails', () => {
  let harness: Harness;
  let failing = false;

  beforeAll(async () => {
    harness = await startHarness({
      audit: (real) => ({
        append: (record) =>
          failing
            ? Promise.reject(new SignerError('upstream_unavailable', 'trail down', { upstream: 'audit' }))
            : real.append(record),
        close: () => real.close(),
      }),
    });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('never answers a step as done without its record: 503 upstream_unavailable', async () => {
    const initiator = await Caller.create(harness, { subject: 'ops-alice', scope: INITIATE });
    const bob = await Caller.create(harness, { subject: 'ops-bob', scope: APPROVE });
    const id = (
      await initiator.send('POST', BASE, { operation: { kind: 'key.retire', name: 'default' } })
    ).json().id as string;
    await bob.send('GET', `${BASE}/${id}`); // the nonce dance, while the trail still works
    failing = true;
    expectProblem(await bob.send('POST', `${BASE}/${id}/approve`), 503, 'upstream_unavailable');
    expectProblem(
      await initiator.send('POST', BASE, { operation: { kind: 'key.retire', name: 'default' } }),
      503,
      'upstream_unavailable',
    );
    failing = false;
  });

  it('keeps a vote whose record failed and writes the record once when the trail is back (outbox)', async () => {
    const initiator = await Caller.create(harness, { subject: 'ops-alice', scope: INITIATE });
    const bob = await Caller.create(harness, { subject: 'ops-dave', scope: APPROVE });
    const carol = await Caller.create(harness, { subject: 'ops-erin', scope: APPROVE });
    const id = (
      await initiator.send('POST', BASE, { operation: { kind: 'key.activate', name: 'default' } })
    ).json().id as string;
    await bob.send('GET', `${BASE}/${id}`);
    await carol.send('GET', `${BASE}/${id}`);
    const events = () =>
      harness
        .auditLines()
        .filter((r) => r['outcome'] === 'ceremony' && (r['ceremony'] as { id: string }).id === id)
        .map((r) => `${(r['ceremony'] as { event: string }).event} ${(r['caller'] as { sub: string }).sub}`);

    failing = true;
    expectProblem(await bob.send('POST', `${BASE}/${id}/approve`), 503, 'upstream_unavailable');
    // The trail is still down: the next vote cannot write the first one's record, so it is refused
    // without counting.
    expectProblem(await carol.send('POST', `${BASE}/${id}/approve`), 503, 'upstream_unavailable');
    failing = false;
    expect(events()).toEqual(['initiated ops-alice']);

    // The retry of the same vote writes its record and answers 200 (not ceremony_duplicate_vote).
    const retried = await bob.send('POST', `${BASE}/${id}/approve`);
    expect(retried.statusCode).toBe(200);
    expect(validCeremony(retried.json())).toBe(true);
    expect(retried.json()).toMatchObject({
      status: 'pending',
      approvals: [{ principal: { sub: 'ops-dave' } }],
    });
    const approvedRecord = harness
      .auditLines()
      .find(
        (r) =>
          (r['ceremony'] as { id?: string; event?: string } | undefined)?.event === 'approved' &&
          (r['ceremony'] as { id: string }).id === id,
      );
    const replay = harness.auditLines().find((r) => r['replayOf'] === approvedRecord?.['auditId']);
    expect(replay).toMatchObject({ outcome: 'checked', caller: { sub: 'ops-dave' } });

    expect((await carol.send('POST', `${BASE}/${id}/approve`)).json()).toMatchObject({ status: 'approved' });
    expect(events()).toEqual([
      'initiated ops-alice',
      'approved ops-dave',
      'approved ops-erin',
      'threshold_reached ops-erin',
    ]);
    // The create answered 503 above left its ceremony pending with an unwritten record (and the
    // approval answered 503 there left its own): nobody can step on an id they never got, so a
    // list writes them.
    const listed = (await initiator.send('GET', `${BASE}?status=pending`)).json().ceremonies as Array<{
      id: string;
      operation: { kind: string };
    }>;
    const retires = listed.filter((c) => c.operation.kind === 'key.retire').map((c) => c.id);
    expect(retires).toHaveLength(2);
    const recorded = harness
      .auditLines()
      .filter((r) => r['outcome'] === 'ceremony')
      .map((r) => r['ceremony'] as { id: string; event: string });
    for (const retire of retires)
      expect(recorded.filter((c) => c.id === retire && c.event === 'initiated')).toHaveLength(1);
    expect(recorded.filter((c) => retires.includes(c.id) && c.event === 'approved')).toHaveLength(1);

    const ids = harness.auditLines().map((r) => r['auditId']);
    expect(new Set(ids).size).toBe(ids.length);
    await expect(verifyAuditFile(join(harness.dir, 'audit/audit.jsonl'))).resolves.toMatchObject({
      ok: true,
    });
  });
});
