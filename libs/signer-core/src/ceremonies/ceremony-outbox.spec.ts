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
import type { CeremonyPrincipal } from './ceremony';
import { DEFAULT_CEREMONY_AUDIT_LEASE_SECONDS } from './ceremony-outbox';
import { ceremonyPolicy } from './ceremony-policy';
import { CeremonyService } from './ceremony-service';

const START = Date.parse('2026-06-01T12:00:00.000Z');
const alice: CeremonyPrincipal = { sub: 'alice', tenant: 'ops' };
const bob: CeremonyPrincipal = { sub: 'bob', tenant: 'ops' };
const carol: CeremonyPrincipal = { sub: 'carol', tenant: 'ops' };
const revoke = { kind: 'key.revoke', name: 'release-b', reason: 'laptop stolen' };

function setup() {
  const clock = new StepClock(START);
  const store = new TestCeremonyStore();
  const audit = new ChainedMemorySink();
  const decisions = new DecisionLog({ audit, clock });
  const administrator = new InMemoryAdministrator(seededState(clock.now()), clock);
  const service = new CeremonyService({
    store,
    administrator,
    policy: ceremonyPolicy({}),
    decisions,
    audit,
    lookup: audit,
    clock,
  });
  const trail = () => decisions.begin('corr', 'test route');
  const events = (id: string) =>
    audit.records
      .filter((r) => r.outcome === 'ceremony' && r.ceremony?.id === id)
      .map((r) => `${r.ceremony?.event} ${r.ceremony?.approvals}`);
  /** No event lost, none written twice, and the whole trail verifies as one chain. */
  const expectSound = async (id: string) => {
    expect((await store.get(id))?.unaudited).toBeUndefined();
    const ids = audit.records.map((r) => r.auditId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(audit.duplicates).toBe(0);
    expect(verifyAuditChain(audit.records)).toMatchObject({ ok: true, count: audit.records.length });
  };
  /** Fails the compare-and-set after the next one (the store goes away right after a commit). */
  const failSecondWrite = () => {
    store.beforeNextWrite = async () => {
      store.beforeNextWrite = async () => {
        throw new SignerError('upstream_unavailable', 'state down', { upstream: 'state' });
      };
    };
  };
  return { clock, store, audit, administrator, service, trail, events, expectSound, failSecondWrite };
}

async function refusal(promise: Promise<unknown>): Promise<SignerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SignerError);
  return error as SignerError;
}

describe('CeremonyService audit outbox', () => {
  describe('when the trail fails after a vote committed', () => {
    it('answers 503, keeps the vote and its record in the outbox, and the next step writes it first', async () => {
      const { service, trail, audit, store, events, expectSound } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      audit.down = true;
      const failed = await refusal(service.approve(trail(), bob, id));
      expect(failed).toMatchObject({ code: 'upstream_unavailable', upstream: 'audit' });
      const stored = await store.get(id);
      expect(stored?.approvals.map((v) => v.principal.sub)).toEqual(['bob']);
      expect(stored?.unaudited?.map((e) => [e.record.ceremony?.event, e.step, e.principal.sub])).toEqual([
        ['approved', 'approve', 'bob'],
      ]);
      expect(events(id)).toEqual(['initiated 0']);

      // Still down: the next step cannot write bob's record, so it changes nothing.
      expect((await refusal(service.approve(trail(), carol, id))).code).toBe('upstream_unavailable');
      expect((await store.get(id))?.approvals).toHaveLength(1);

      audit.down = false;
      const approved = await service.approve(trail(), carol, id);
      expect(approved).toMatchObject({ status: 'approved' });
      expect(approved.unaudited).toBeUndefined();
      expect(events(id)).toEqual(['initiated 0', 'approved 1', 'approved 2', 'threshold_reached 2']);
      await expectSound(id);
    });

    it('answers the same principal retrying the same vote 200, recorded as a replay of its record', async () => {
      const { service, trail, audit, events, expectSound } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      audit.down = true;
      await refusal(service.approve(trail(), bob, id));
      audit.down = false;
      const retry = trail();
      const answered = await service.approve(retry, bob, id);
      expect(answered.approvals.map((v) => v.principal.sub)).toEqual(['bob']);
      const approvedRecord = audit.records.find((r) => r.ceremony?.event === 'approved');
      expect(retry.record).toMatchObject({ outcome: 'checked', replayOf: approvedRecord?.auditId });
      expect(events(id)).toEqual(['initiated 0', 'approved 1']);
      // Once its record is written, a further repeat is the ordinary duplicate vote.
      expect((await refusal(service.approve(trail(), bob, id))).code).toBe('ceremony_duplicate_vote');
      await expectSound(id);
    });
  });

  describe('when a record reached the trail but its write was reported failed (lost acknowledgement)', () => {
    it('asks the trail before writing it again: written once', async () => {
      const { service, trail, audit, events, expectSound } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      audit.lostAcks = 1;
      expect((await refusal(service.approve(trail(), bob, id))).code).toBe('upstream_unavailable');
      await service.approve(trail(), carol, id);
      expect(events(id)).toEqual(['initiated 0', 'approved 1', 'approved 2', 'threshold_reached 2']);
      await expectSound(id);
    });
  });

  describe('when the store fails to clear records that were written', () => {
    it('leaves them to their writer until the lease ends, then a step finds them in the trail and clears them', async () => {
      const { service, trail, store, clock, events, expectSound, failSecondWrite } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      failSecondWrite(); // bob's vote commits, its record is written, the clearing write fails
      expect((await service.approve(trail(), bob, id)).approvals).toHaveLength(1);
      expect((await store.get(id))?.unaudited).toHaveLength(1);
      // Within the lease another step leaves bob's entry alone (its writer may still be writing).
      await service.approve(trail(), carol, id);
      expect((await store.get(id))?.unaudited?.map((e) => e.principal.sub)).toEqual(['bob']);
      clock.advance(DEFAULT_CEREMONY_AUDIT_LEASE_SECONDS);
      await service.get(trail(), id);
      expect(events(id)).toEqual(['initiated 0', 'approved 1', 'approved 2', 'threshold_reached 2']);
      await expectSound(id);
    });

    it('answers a retry of the step whose lease could not be released 503 until the lease ends', async () => {
      const { service, trail, audit, clock, events, expectSound, failSecondWrite } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      audit.down = true;
      failSecondWrite(); // the vote commits, its record fails, and releasing the lease fails too
      await refusal(service.approve(trail(), bob, id));
      audit.down = false;
      const early = await refusal(service.approve(trail(), bob, id));
      expect(early).toMatchObject({ code: 'upstream_unavailable', upstream: 'audit' });
      expect(early.retryAfterSeconds).toBeLessThanOrEqual(DEFAULT_CEREMONY_AUDIT_LEASE_SECONDS);
      clock.advance(DEFAULT_CEREMONY_AUDIT_LEASE_SECONDS);
      expect((await service.approve(trail(), bob, id)).approvals).toHaveLength(1);
      expect(events(id)).toEqual(['initiated 0', 'approved 1']);
      await expectSound(id);
    });
  });

  describe('when the trail fails at the executed record', () => {
    it('keeps the execution (applied once), and the retry writes executed once and answers 200', async () => {
      const { service, trail, audit, administrator, events, expectSound } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      await service.approve(trail(), bob, id);
      await service.approve(trail(), carol, id);
      audit.down = true;
      expect((await refusal(service.execute(trail(), alice, id))).code).toBe('upstream_unavailable');
      audit.down = false;
      const retried = await service.execute(trail(), alice, id);
      expect(retried).toMatchObject({ status: 'executed', resultVersion: 2 });
      expect(administrator.applied).toHaveLength(1);
      expect(events(id).at(-1)).toBe('executed 2');
      expect(events(id).filter((e) => e.startsWith('executed'))).toHaveLength(1);
      await expectSound(id);
    });
  });

  describe('when the trail fails at a create', () => {
    it('answers 503, and listing the ceremonies writes its initiated record', async () => {
      const { service, trail, audit, store, events, expectSound } = setup();
      audit.down = true;
      expect((await refusal(service.create(trail(), alice, revoke))).code).toBe('upstream_unavailable');
      const [orphan] = await store.list({ limit: 10 });
      expect(orphan.unaudited).toHaveLength(1);
      audit.down = false;
      const listed = await service.list(trail(), { limit: 10 });
      expect(listed.map((c) => c.id)).toEqual([orphan.id]);
      expect(listed[0].unaudited).toBeUndefined();
      expect(events(orphan.id)).toEqual(['initiated 0']);
      await expectSound(orphan.id);
    });
  });

  describe('when votes arrive at once while the trail flaps', () => {
    /** A small seeded generator (mulberry32), so a failing seed can be replayed. */
    function random(seed: number): () => number {
      let state = seed;
      return () => {
        state = (state + 0x6d2b79f5) | 0;
        let t = Math.imul(state ^ (state >>> 15), 1 | state);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
    }

    let refused = 0;
    afterAll(() => {
      // The seeds do exercise the failure paths.
      expect(refused).toBeGreaterThan(0);
    });

    it.each([1, 2, 3, 4, 5, 6, 7, 8])(
      'seed %i: every committed vote has exactly one record once the trail is back',
      async (seed) => {
        const { service, trail, audit, store, clock, events, expectSound } = setup();
        const { id } = await service.create(trail(), alice, revoke);
        const next = random(seed);
        audit.faults = () => {
          const roll = next();
          return roll < 0.3 ? 'refuse' : roll < 0.45 ? 'lose-ack' : undefined;
        };
        const voters = ['bob', 'carol', 'dave', 'erin', 'frank'].map((sub) => ({ sub, tenant: 'ops' }));
        const answers = await Promise.allSettled(voters.map((p) => service.approve(trail(), p, id)));
        // Every refusal is a trail failure (503), never a lost or doubled vote.
        for (const answer of answers)
          if (answer.status === 'rejected') expect(answer.reason).toMatchObject({ upstream: 'audit' });
        refused += answers.filter((a) => a.status === 'rejected').length;
        audit.faults = undefined;
        clock.advance(DEFAULT_CEREMONY_AUDIT_LEASE_SECONDS);
        const final = await service.get(trail(), id);
        const voted = final.approvals.map((v) => v.principal.sub).sort();
        // Each vote's record carries the count after it: 1..n, each exactly once.
        const counts = audit.records
          .filter((r) => r.ceremony?.id === id && r.ceremony.event === 'approved')
          .map((r) => r.ceremony?.approvals)
          .sort();
        expect(counts).toEqual(voted.map((_, index) => index + 1));
        expect(events(id).filter((e) => e.startsWith('threshold_reached'))).toHaveLength(
          final.status === 'approved' ? 1 : 0,
        );
        expect((await store.get(id))?.approvals).toHaveLength(voted.length);
        await expectSound(id);
      },
    );
  });

  describe('when a ceremony expires while the trail is down', () => {
    it('answers 503 rather than 410 and writes the expiry on the next step', async () => {
      const { service, trail, audit, clock, store, events, expectSound } = setup();
      const { id } = await service.create(trail(), alice, revoke);
      clock.advance(86_400);
      audit.down = true;
      expect((await refusal(service.approve(trail(), bob, id))).code).toBe('upstream_unavailable');
      expect((await store.get(id))?.status).toBe('expired');
      audit.down = false;
      expect((await refusal(service.approve(trail(), bob, id))).code).toBe('ceremony_expired');
      expect(events(id)).toEqual(['initiated 0', 'expired 0']);
      await expectSound(id);
    });
  });
});
