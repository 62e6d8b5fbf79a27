import { generateKeyPairSync } from 'node:crypto';
import { SignerError } from '../errors';
import type { CeremonyOperation } from '../ceremonies/ceremony';
import { testKey } from '../../test/managed-keys';
import { applyOperation, KEY_TRANSITIONS, type ApplyContext } from './key-lifecycle';
import type { KeyState, ManagedState } from './managed-state';
import { DEFAULT_ROTATION_PROFILE } from './rotation-profile';
import { seedManagedState } from './seed-state';

const NOW = new Date('2026-12-02T10:00:00.000Z');
const LATER = new Date('2026-12-02T11:00:00.000Z');
const profiles = { default: DEFAULT_ROTATION_PROFILE, strict: { algorithms: ['EdDSA'], warningDays: 7 } };
const primary = testKey();
const secondary = testKey();
const anchor = testKey();

function seeded(states: Partial<Record<'primary' | 'secondary', KeyState>> = {}): ManagedState {
  return seedManagedState({
    keys: [
      { name: 'primary', ref: 'file:///k/primary.pem', ...primary, state: states.primary },
      { name: 'secondary', ref: 'file:///k/secondary.pem', ...secondary, state: states.secondary },
    ],
    defaultKey: states.primary === undefined || states.primary === 'active' ? 'primary' : undefined,
    trustAnchors: [{ publicKeyPem: anchor.publicKeyPem, label: 'release-2026' }],
    profiles,
    now: NOW,
  });
}

const context = (extra: Partial<ApplyContext> = {}): ApplyContext => ({
  now: LATER,
  ceremonyId: 'c-1',
  profiles,
  ...extra,
});

function refusal(state: ManagedState, op: CeremonyOperation, extra: Partial<ApplyContext> = {}): SignerError {
  try {
    applyOperation(state, op, context(extra));
  } catch (error) {
    expect(error).toBeInstanceOf(SignerError);
    return error as SignerError;
  }
  throw new Error(`expected ${op.kind} to be refused`);
}

describe('applyOperation', () => {
  describe('when a transition is allowed by the lifecycle', () => {
    it.each([
      ['pending', 'key.activate', 'active'],
      ['pending', 'key.revoke', 'revoked'],
      ['active', 'key.retire', 'retired'],
      ['active', 'key.revoke', 'revoked'],
      ['retired', 'key.revoke', 'revoked'],
    ] as const)('moves %s through %s to %s, version + 1, history extended', (from, kind, to) => {
      const state = seeded({ secondary: from });
      const op = (
        kind === 'key.revoke'
          ? { kind, name: 'secondary', reason: 'compromised' }
          : { kind, name: 'secondary' }
      ) as CeremonyOperation;
      const next = applyOperation(state, op, context());
      const key = next.keys.find((k) => k.name === 'secondary');
      expect(next.version).toBe(state.version + 1);
      expect(next.updatedAt).toBe(LATER.toISOString());
      expect(key?.state).toBe(to);
      expect(key?.history.at(-1)).toEqual({ state: to, at: LATER.toISOString(), ceremonyId: 'c-1' });
      expect(state.keys.find((k) => k.name === 'secondary')?.state).toBe(from);
    });

    it('records revokedAt and the reason on revocation', () => {
      const next = applyOperation(
        seeded(),
        { kind: 'key.revoke', name: 'secondary', reason: 'leaked' },
        context(),
      );
      expect(next.keys.find((k) => k.name === 'secondary')).toMatchObject({
        revokedAt: LATER.toISOString(),
        revocationReason: 'leaked',
      });
    });
  });

  describe('when a transition is not allowed', () => {
    const forbidden: Array<[KeyState, CeremonyOperation['kind']]> = [
      ['pending', 'key.retire'],
      ['active', 'key.activate'],
      ['retired', 'key.activate'],
      ['retired', 'key.retire'],
      ['revoked', 'key.activate'],
      ['revoked', 'key.retire'],
      ['revoked', 'key.revoke'],
    ];
    it.each(forbidden)('refuses %s → %s with key_state_conflict', (from, kind) => {
      const op = (
        kind === 'key.revoke' ? { kind, name: 'secondary', reason: 'x' } : { kind, name: 'secondary' }
      ) as CeremonyOperation;
      const error = refusal(seeded({ secondary: from }), op);
      expect(error.code).toBe('key_state_conflict');
      expect(error.message).toContain(`from ${from}`);
    });

    it('keeps the table closed: nothing leaves revoked', () => {
      expect(KEY_TRANSITIONS.revoked).toEqual([]);
    });
  });

  describe('when the key is unknown', () => {
    it.each([
      { kind: 'key.activate', name: 'ghost' },
      { kind: 'key.retire', name: 'ghost' },
      { kind: 'key.revoke', name: 'ghost', reason: 'x' },
      { kind: 'key.set-default', name: 'ghost' },
    ] as CeremonyOperation[])('refuses $kind', (op) => {
      expect(refusal(seeded(), op)).toMatchObject({
        code: 'key_state_conflict',
        message: expect.stringContaining('"ghost"'),
      });
    });
  });

  describe('when registering a key', () => {
    const fresh = testKey();
    const op: CeremonyOperation = { kind: 'key.register', name: 'next', ref: 'file:///k/next.pem' };

    it('adds it as pending with its fingerprint and profile', () => {
      const next = applyOperation(seeded(), op, context({ registered: fresh }));
      expect(next.keys.find((k) => k.name === 'next')).toMatchObject({
        keyId: fresh.keyId,
        state: 'pending',
        profile: 'default',
        validFrom: LATER.toISOString(),
        history: [{ state: 'pending', at: LATER.toISOString(), ceremonyId: 'c-1' }],
      });
    });

    it('refuses a duplicate name', () => {
      const error = refusal(seeded(), { ...op, name: 'primary' }, { registered: fresh });
      expect(error).toMatchObject({
        code: 'key_state_conflict',
        message: expect.stringContaining('already exists'),
      });
    });

    it('refuses material already registered, even under a revoked key', () => {
      const state = seeded({ secondary: 'revoked' });
      const error = refusal(state, op, { registered: secondary });
      expect(error).toMatchObject({
        code: 'key_state_conflict',
        message: expect.stringContaining('"secondary"'),
      });
    });

    it('refuses an algorithm the profile does not allow', () => {
      const error = refusal(seeded(), { ...op, profile: 'strict' }, { registered: fresh });
      expect(error.message).toContain('expected one of EdDSA, got ES256');
    });

    it('refuses an unknown profile and an empty validity window', () => {
      expect(refusal(seeded(), { ...op, profile: 'nope' }, { registered: fresh }).code).toBe(
        'key_state_conflict',
      );
      const window = { ...op, validFrom: '2027-01-01T00:00:00Z', validUntil: '2026-12-31T00:00:00Z' };
      expect(refusal(seeded(), window, { registered: fresh }).message).toContain(
        'expected validUntil after validFrom',
      );
    });
  });

  describe('when changing defaults', () => {
    it('sets the installation default and a plan default to an active key', () => {
      const state = seeded();
      const installation = applyOperation(state, { kind: 'key.set-default', name: 'secondary' }, context());
      const plan = applyOperation(
        installation,
        { kind: 'key.set-default', name: 'primary', plan: 'pro' },
        context(),
      );
      expect(plan.defaults).toEqual({ installation: 'secondary', plans: { pro: 'primary' } });
    });

    it('refuses a non-active key as default', () => {
      const error = refusal(seeded({ secondary: 'pending' }), { kind: 'key.set-default', name: 'secondary' });
      expect(error.message).toContain('expected an active key as default, got pending');
    });

    it('refuses to retire a default until another is set', () => {
      const error = refusal(seeded(), { kind: 'key.retire', name: 'primary' });
      expect(error.message).toContain('is the default for the installation');
    });

    it('lets a default be revoked at once and clears every default naming it', () => {
      const withPlan = applyOperation(
        seeded(),
        { kind: 'key.set-default', name: 'primary', plan: 'pro' },
        context(),
      );
      const next = applyOperation(
        withPlan,
        { kind: 'key.revoke', name: 'primary', reason: 'leaked' },
        context(),
      );
      expect(next.defaults).toEqual({ plans: {} });
    });
  });

  describe('when changing trust anchors', () => {
    const added = testKey();

    it('adds an anchor under its SPKI fingerprint', () => {
      const next = applyOperation(
        seeded(),
        { kind: 'trust-anchor.add', publicKeyPem: added.publicKeyPem, label: 'r' },
        context(),
      );
      expect(next.trustAnchors.map((a) => a.keyId)).toEqual([anchor.keyId, added.keyId]);
      expect(next.trustAnchors[1]).toMatchObject({
        label: 'r',
        addedAt: LATER.toISOString(),
        ceremonyId: 'c-1',
      });
    });

    it('refuses a duplicate anchor and a value that is no public key', () => {
      expect(refusal(seeded(), { kind: 'trust-anchor.add', publicKeyPem: anchor.publicKeyPem }).code).toBe(
        'key_state_conflict',
      );
      expect(refusal(seeded(), { kind: 'trust-anchor.add', publicKeyPem: 'nope' }).code).toBe(
        'invalid_request',
      );
      const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey.export({
        type: 'spki',
        format: 'pem',
      });
      expect(
        refusal(seeded(), { kind: 'trust-anchor.add', publicKeyPem: p521.toString() }).message,
      ).toContain('got ec secp521r1');
    });

    it('removes an anchor but never the last one', () => {
      const two = applyOperation(
        seeded(),
        { kind: 'trust-anchor.add', publicKeyPem: added.publicKeyPem },
        context(),
      );
      const one = applyOperation(two, { kind: 'trust-anchor.remove', keyId: anchor.keyId }, context());
      expect(one.trustAnchors.map((a) => a.keyId)).toEqual([added.keyId]);
      expect(refusal(one, { kind: 'trust-anchor.remove', keyId: added.keyId }).message).toContain(
        'is the last one',
      );
      expect(refusal(one, { kind: 'trust-anchor.remove', keyId: anchor.keyId }).message).toContain(
        'got none',
      );
    });
  });
});

describe('seedManagedState', () => {
  it('starts at version 1 with every configured key active and the sorted-first default', () => {
    const state = seedManagedState({
      keys: [
        { name: 'zeta', ref: 'file:///z', ...secondary },
        { name: 'alpha', ref: 'file:///a', ...primary },
      ],
      trustAnchors: [{ publicKeyPem: anchor.publicKeyPem }, { publicKeyPem: anchor.publicKeyPem }],
      profiles,
      now: NOW,
    });
    expect(state).toMatchObject({ version: 1, defaults: { installation: 'alpha', plans: {} } });
    expect(state.keys.map((k) => [k.name, k.state, k.validFrom])).toEqual([
      ['alpha', 'active', NOW.toISOString()],
      ['zeta', 'active', NOW.toISOString()],
    ]);
    expect(state.trustAnchors).toHaveLength(1);
  });

  it('prefers a key named default, and refuses a non-active explicit default', () => {
    const keys = [
      { name: 'a', ref: 'file:///a', ...primary },
      { name: 'default', ref: 'file:///d', ...secondary },
    ];
    expect(seedManagedState({ keys, trustAnchors: [], profiles, now: NOW }).defaults.installation).toBe(
      'default',
    );
    const pending = [{ ...keys[0], state: 'pending' as const }, keys[1]];
    expect(() =>
      seedManagedState({ keys: pending, defaultKey: 'a', trustAnchors: [], profiles, now: NOW }),
    ).toThrow('expected an active key, got "a" (pending)');
  });

  it('refuses two names for the same key material', () => {
    const keys = [
      { name: 'a', ref: 'file:///a', ...primary },
      { name: 'b', ref: 'file:///b', ...primary },
    ];
    expect(() => seedManagedState({ keys, trustAnchors: [], profiles, now: NOW })).toThrow(
      'hold the same key material',
    );
  });
});
