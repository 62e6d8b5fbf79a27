import { verifyAuditChain } from '../audit/audit-chain';
import { SignerError } from '../errors';
import { DecisionLog } from '../pipeline/decision-log';
import {
  ChainedMemorySink,
  InMemoryAdministrator,
  seededState,
  StepClock,
  TestCeremonyStore,
} from '../../test/ceremonies';
import { testKey } from '../../test/managed-keys';
import type { CeremonyPrincipal } from './ceremony';
import {
  ceremonyPolicy,
  DEFAULT_CEREMONY_MAX_OPEN_PER_INITIATOR,
  type CeremonyPolicy,
} from './ceremony-policy';
import { CeremonyService } from './ceremony-service';

const START = Date.parse('2026-06-01T12:00:00.000Z');
const alice: CeremonyPrincipal = { sub: 'alice', tenant: 'ops', clientId: 'console' };
const bob: CeremonyPrincipal = { sub: 'bob', tenant: 'ops' };
const carol: CeremonyPrincipal = { sub: 'carol', tenant: 'ops' };
const dave: CeremonyPrincipal = { sub: 'dave', tenant: 'ops' };
const revoke = { kind: 'key.revoke', name: 'release-b', reason: 'laptop stolen' };

function setup(policy: CeremonyPolicy = ceremonyPolicy({})) {
  const clock = new StepClock(START);
  const store = new TestCeremonyStore();
  const audit = new ChainedMemorySink();
  const decisions = new DecisionLog({ audit, clock });
  const administrator = new InMemoryAdministrator(seededState(clock.now()), clock);
  const service = new CeremonyService({
    store,
    administrator,
    policy,
    decisions,
    audit,
    lookup: audit,
    clock,
  });
  const trail = () => decisions.begin('corr', 'test route');
  const ceremonyRecords = () => audit.records.filter((r) => r.outcome === 'ceremony').map((r) => r.ceremony);
  return { clock, store, audit, administrator, service, trail, ceremonyRecords };
}

async function refusal(promise: Promise<unknown>): Promise<SignerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SignerError);
  return error as SignerError;
}

describe('CeremonyService', () => {
  describe('when a ceremony is created', () => {
    it('stores it pending with the threshold and expiry of its operation kind, and records initiated', async () => {
      const { service, trail, ceremonyRecords, store } = setup(
        ceremonyPolicy({ operations: { 'key.revoke': { approvals: 3, expirySeconds: 600 } } }),
      );
      const ceremony = await service.create(trail(), alice, revoke);
      expect(ceremony).toMatchObject({
        status: 'pending',
        threshold: 3,
        initiator: alice,
        createdAt: '2026-06-01T12:00:00.000Z',
        expiresAt: '2026-06-01T12:10:00.000Z',
        // 1: created with its `initiated` record in the outbox; 2: the record written, cleared.
        revision: 2,
        operation: revoke,
      });
      expect(ceremony.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(await store.get(ceremony.id)).toEqual(ceremony);
      expect(ceremonyRecords()).toEqual([
        {
          id: ceremony.id,
          event: 'initiated',
          operation: 'key.revoke',
          target: 'release-b',
          approvals: 0,
          threshold: 3,
        },
      ]);
    });

    it('refuses a malformed operation as invalid_request at the body gate, storing nothing', async () => {
      const { service, trail, store } = setup();
      const t = trail();
      const error = await refusal(
        service.create(t, alice, { kind: 'key.revoke', name: 'bad name!', reason: 'x' }),
      );
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain('operation.name');
      expect(t.record.gates.body).toBe('invalid_request');
      expect(store.stored.size).toBe(0);
    });
  });

  describe('when an initiator holds maxOpenPerInitiator open ceremonies', () => {
    const limited = () => setup(ceremonyPolicy({ maxOpenPerInitiator: 2 }));

    it('refuses the next create with plan_throttled (limit ceremonies, Retry-After 60), storing nothing', async () => {
      const { service, trail, store } = limited();
      await service.create(trail(), alice, revoke);
      await service.create(trail(), alice, { kind: 'key.retire', name: 'release-b' });
      const t = trail();
      // Another client of the same subject is the same initiator.
      const error = await refusal(
        service.create(t, { sub: 'alice', tenant: 'ops', clientId: 'cli' }, revoke),
      );
      expect(error).toMatchObject({ code: 'plan_throttled', limit: 'ceremonies', retryAfterSeconds: 60 });
      expect(error.message).toBe(
        'ceremony limit reached: expected at most 2 open ceremonies per initiator, got 2 open',
      );
      expect(t.record.gates.quota).toBe('plan_throttled');
      expect(t.record.ceremony).toBeUndefined();
      expect(store.stored.size).toBe(2);
    });

    it('still lets another principal, or the same sub in another tenant, create', async () => {
      const { service, trail } = limited();
      await service.create(trail(), alice, revoke);
      await service.create(trail(), alice, revoke);
      expect((await service.create(trail(), bob, revoke)).initiator).toEqual(bob);
      const otherTenant = { sub: 'alice', tenant: 'lab' };
      expect((await service.create(trail(), otherTenant, revoke)).initiator).toEqual(otherTenant);
    });

    it('lets the initiator create again once one is cancelled, or once one has expired', async () => {
      const { service, trail, clock } = setup(
        ceremonyPolicy({
          maxOpenPerInitiator: 2,
          operations: { 'key.retire': { approvals: 2, expirySeconds: 60 } },
        }),
      );
      const first = await service.create(trail(), alice, revoke);
      await service.create(trail(), alice, { kind: 'key.retire', name: 'release-b' });
      expect((await refusal(service.create(trail(), alice, revoke))).code).toBe('plan_throttled');
      await service.cancel(trail(), alice, first.id);
      await service.create(trail(), alice, revoke);
      expect((await refusal(service.create(trail(), alice, revoke))).code).toBe('plan_throttled');
      // The retire expires unnoticed (no step took it): past its expiresAt it no longer counts.
      clock.advance(60);
      expect((await service.create(trail(), alice, revoke)).status).toBe('pending');
    });

    it('counts approved ceremonies as open, and executed ones not', async () => {
      const { service, trail } = setup(ceremonyPolicy({ maxOpenPerInitiator: 1 }));
      const { id } = await service.create(trail(), alice, revoke);
      await service.approve(trail(), bob, id);
      await service.approve(trail(), carol, id);
      expect((await refusal(service.create(trail(), alice, revoke))).code).toBe('plan_throttled');
      await service.execute(trail(), alice, id);
      expect((await service.create(trail(), alice, { kind: 'key.retire', name: 'release-a' })).status).toBe(
        'pending',
      );
    });
  });

  describe('when principals vote', () => {
    it('refuses the initiator, even from another client, with ceremony_self_approval', async () => {
      const { service, trail } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      const error = await refusal(
        service.approve(trail(), { sub: 'alice', tenant: 'ops', clientId: 'cli' }, id),
      );
      expect(error.code).toBe('ceremony_self_approval');
      const rejection = await refusal(service.reject(trail(), alice, id, 'no'));
      expect(rejection.code).toBe('ceremony_self_approval');
    });

    it('refuses a second vote by the same principal with ceremony_duplicate_vote', async () => {
      const { service, trail } = setup(ceremonyPolicy({ operations: { 'key.revoke': { approvals: 3 } } }));
      const { id } = await service.create(trail(), alice, revoke);
      await service.approve(trail(), bob, id);
      expect((await refusal(service.approve(trail(), bob, id))).code).toBe('ceremony_duplicate_vote');
      expect((await refusal(service.reject(trail(), bob, id, 'changed my mind'))).code).toBe(
        'ceremony_duplicate_vote',
      );
    });

    it('stays pending below the threshold and becomes approved at it, writing approved and threshold_reached', async () => {
      const { service, trail, ceremonyRecords } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      expect((await service.approve(trail(), bob, id)).status).toBe('pending');
      const approved = await service.approve(trail(), carol, id);
      expect(approved.status).toBe('approved');
      expect(approved.approvals.map((v) => v.principal.sub)).toEqual(['bob', 'carol']);
      expect(ceremonyRecords().map((c) => [c?.event, c?.approvals])).toEqual([
        ['initiated', 0],
        ['approved', 1],
        ['approved', 2],
        ['threshold_reached', 2],
      ]);
    });

    it('lets one rejection veto the ceremony: rejected, final, with the reason kept', async () => {
      const { service, trail, ceremonyRecords } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      await service.approve(trail(), bob, id);
      const rejected = await service.reject(trail(), carol, id, 'wrong key');
      expect(rejected).toMatchObject({
        status: 'rejected',
        rejections: [{ principal: carol, reason: 'wrong key' }],
      });
      expect((await refusal(service.approve(trail(), dave, id))).code).toBe('ceremony_state_conflict');
      expect((await refusal(service.execute(trail(), alice, id))).code).toBe('ceremony_state_conflict');
      expect(ceremonyRecords().at(-1)?.event).toBe('rejected');
    });

    it('refuses a rejection without a reason as invalid_request', async () => {
      const { service, trail } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      expect((await refusal(service.reject(trail(), bob, id, ''))).code).toBe('invalid_request');
      expect((await refusal(service.reject(trail(), bob, id, 'a\nb'))).code).toBe('invalid_request');
    });

    it('with an approvers allow-list, refuses anyone else with insufficient_scope', async () => {
      const { service, trail } = setup(ceremonyPolicy({ approvers: ['bob', 'carol', 'erin'] }));
      const { id } = await service.create(trail(), alice, revoke);
      expect((await refusal(service.approve(trail(), dave, id))).code).toBe('insufficient_scope');
      expect((await service.approve(trail(), bob, id)).approvals).toHaveLength(1);
    });

    it('refuses an unknown id with ceremony_not_found', async () => {
      const { service, trail } = setup();
      const error = await refusal(service.approve(trail(), bob, '01900000-0000-7000-8000-000000000000'));
      expect(error.code).toBe('ceremony_not_found');
    });
  });

  describe('when approvals arrive concurrently (two replicas)', () => {
    it('counts both: the loser of the compare-and-set re-reads and re-judges', async () => {
      const { service, trail, store, ceremonyRecords } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      // Carol's approval commits between Bob's read and Bob's compare-and-set.
      store.beforeNextWrite = async () => {
        await service.approve(trail(), carol, id);
      };
      const final = await service.approve(trail(), bob, id);
      expect(final.status).toBe('approved');
      expect(final.approvals.map((v) => v.principal.sub).sort()).toEqual(['bob', 'carol']);
      expect(ceremonyRecords().filter((c) => c?.event === 'threshold_reached')).toHaveLength(1);
    });

    it('counts every approval sent at once', async () => {
      const { service, trail } = setup(ceremonyPolicy({ operations: { 'key.revoke': { approvals: 3 } } }));
      const { id } = await service.create(trail(), alice, revoke);
      await Promise.all([bob, carol, dave].map((p) => service.approve(trail(), p, id)));
      const stored = await service.get(trail(), id);
      expect(stored.status).toBe('approved');
      expect(stored.approvals).toHaveLength(3);
    });
  });

  describe('when a ceremony passes its expiry', () => {
    it('refuses the step with ceremony_expired, stores it expired and records the expiry once', async () => {
      const { service, trail, clock, ceremonyRecords, store } = setup(
        ceremonyPolicy({ operations: { 'key.revoke': { approvals: 2, expirySeconds: 60 } } }),
      );
      const { id } = await service.create(trail(), alice, revoke);
      await service.approve(trail(), bob, id);
      clock.advance(60);
      expect((await refusal(service.approve(trail(), carol, id))).code).toBe('ceremony_expired');
      expect((await store.get(id))?.status).toBe('expired');
      expect((await refusal(service.execute(trail(), alice, id))).code).toBe('ceremony_expired');
      expect((await refusal(service.cancel(trail(), alice, id))).code).toBe('ceremony_expired');
      expect(ceremonyRecords().filter((c) => c?.event === 'expired')).toHaveLength(1);
    });
  });

  describe('when a ceremony is executed', () => {
    it('refuses before the threshold with ceremony_threshold_not_met', async () => {
      const { service, trail, administrator } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      await service.approve(trail(), bob, id);
      const error = await refusal(service.execute(trail(), alice, id));
      expect(error.code).toBe('ceremony_threshold_not_met');
      expect(error.message).toBe('execute: expected 2 approval(s), got 1');
      expect(administrator.applied).toEqual([]);
    });

    it('applies the operation once, stores the resulting state version and records executed', async () => {
      const { service, trail, administrator, ceremonyRecords } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      await service.approve(trail(), bob, id);
      await service.approve(trail(), carol, id);
      const executed = await service.execute(trail(), carol, id);
      expect(executed).toMatchObject({ status: 'executed', executedBy: carol, resultVersion: 2 });
      const key = administrator.state.keys.find((k) => k.name === 'release-b');
      expect(key).toMatchObject({ state: 'revoked', revocationReason: 'laptop stolen' });
      expect(key?.history.at(-1)).toMatchObject({ state: 'revoked', ceremonyId: id });
      expect(ceremonyRecords().at(-1)).toMatchObject({ event: 'executed', approvals: 2, threshold: 2 });
      expect((await refusal(service.execute(trail(), alice, id))).code).toBe('ceremony_state_conflict');
      expect(administrator.applied).toHaveLength(1);
    });

    it('when the lifecycle refuses, answers key_state_conflict and leaves the ceremony approved', async () => {
      const { service, trail, store, ceremonyRecords } = setup();
      const { id } = await service.create(trail(), alice, { kind: 'key.activate', name: 'release-a' });
      await service.approve(trail(), bob, id);
      await service.approve(trail(), carol, id);
      expect((await refusal(service.execute(trail(), alice, id))).code).toBe('key_state_conflict');
      expect(await store.get(id)).toMatchObject({ status: 'approved' });
      expect((await store.get(id))?.executedBy).toBeUndefined();
      expect(ceremonyRecords().some((c) => c?.event === 'executed')).toBe(false);
    });

    it('adds a trust anchor named by its fingerprint in the record', async () => {
      const { service, trail, administrator, ceremonyRecords } = setup(
        ceremonyPolicy({ operations: { 'trust-anchor.add': { approvals: 1 } } }),
      );
      const anchor = testKey();
      const { id } = await service.create(trail(), alice, {
        kind: 'trust-anchor.add',
        publicKeyPem: anchor.publicKeyPem,
      });
      await service.approve(trail(), bob, id);
      await service.execute(trail(), bob, id);
      expect(administrator.state.trustAnchors.map((a) => a.keyId)).toContain(anchor.keyId);
      expect(ceremonyRecords().at(-1)).toMatchObject({ event: 'executed', target: anchor.keyId });
    });
  });

  describe('when a ceremony is cancelled', () => {
    it('lets the initiator cancel while open, and nobody else', async () => {
      const { service, trail, ceremonyRecords } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      expect((await refusal(service.cancel(trail(), bob, id))).code).toBe('insufficient_scope');
      expect((await service.cancel(trail(), alice, id)).status).toBe('cancelled');
      expect((await refusal(service.cancel(trail(), alice, id))).code).toBe('ceremony_state_conflict');
      expect((await refusal(service.approve(trail(), bob, id))).code).toBe('ceremony_state_conflict');
      expect(ceremonyRecords().at(-1)?.event).toBe('cancelled');
    });
  });

  describe('when the audit trail cannot take the record', () => {
    it('does not answer the step as done', async () => {
      const { service, trail, audit } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      audit.failNext = true;
      await expect(service.approve(trail(), bob, id)).rejects.toThrow('audit down');
    });
  });

  describe('the audit trail of a full ceremony', () => {
    it('has one record per event and verifies as a chain', async () => {
      const { service, trail, audit, ceremonyRecords } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      await service.approve(trail(), bob, id);
      await service.approve(trail(), carol, id);
      await service.execute(trail(), alice, id);
      expect(ceremonyRecords().map((c) => c?.event)).toEqual([
        'initiated',
        'approved',
        'approved',
        'threshold_reached',
        'executed',
      ]);
      expect(verifyAuditChain(audit.records)).toMatchObject({ ok: true, count: audit.records.length });
    });
  });

  describe('the policy', () => {
    it('defaults to 2 approvals for every key and anchor change, key.register included', () => {
      const policy = ceremonyPolicy({});
      expect(policy.operations['key.revoke'].approvals).toBe(2);
      expect(policy.operations['trust-anchor.remove'].approvals).toBe(2);
      expect(policy.operations['key.register'].approvals).toBe(2);
      expect(policy.expirySeconds).toBe(86_400);
      expect(policy.maxOpenPerInitiator).toBe(DEFAULT_CEREMONY_MAX_OPEN_PER_INITIATOR);
      expect(DEFAULT_CEREMONY_MAX_OPEN_PER_INITIATOR).toBe(20);
    });

    it('refuses a maxOpenPerInitiator below 1', () => {
      expect(() => ceremonyPolicy({ maxOpenPerInitiator: 0 })).toThrow(
        'ceremonies.maxOpenPerInitiator: expected an integer ≥ 1, got 0',
      );
    });

    it('refuses a threshold above the number of allowed approvers', () => {
      expect(() =>
        ceremonyPolicy({ approvers: ['bob', 'carol'], operations: { 'key.revoke': { approvals: 3 } } }),
      ).toThrow(
        'ceremonies.operations.key.revoke.approvals: expected at most 2 (the number of ceremonies.approvers), got 3',
      );
    });

    it('refuses an unknown operation kind', () => {
      expect(() => ceremonyPolicy({ operations: { 'key.delete': { approvals: 1 } } })).toThrow(SignerError);
    });
  });
});
