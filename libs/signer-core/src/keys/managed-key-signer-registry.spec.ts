import { verify } from 'node:crypto';
import { SignerError } from '../errors';
import type { KeySigner } from '../ports/key-signer';
import { testKey, testSigner, TestStateStore } from '../../test/managed-keys';
import type { ManagedKey } from './managed-state';
import { ManagedKeySignerRegistry } from './managed-key-signer-registry';
import { ManagedStateView } from './managed-state-view';
import { canSign, DEFAULT_ROTATION_PROFILE, inWarningPeriod, signingBlocker } from './rotation-profile';
import { seedManagedState } from './seed-state';
import { StateAdministrator } from './state-administrator';

const NOW = new Date('2026-12-02T10:00:00.000Z');
const clock = { now: () => NOW };
const profiles = {
  default: DEFAULT_ROTATION_PROFILE,
  yearly: { algorithms: ['ES256'], maxAgeDays: 365, warningDays: 30 },
};
const material = { primary: testKey(), secondary: testKey(), pro: testKey() };

async function setup(options: { factory?: (key: ManagedKey) => Promise<KeySigner> } = {}) {
  const store = new TestStateStore();
  store.stored = seedManagedState({
    keys: (['primary', 'secondary', 'pro'] as const).map((name) => ({
      name,
      ref: `file:///k/${name}.pem`,
      ...material[name],
    })),
    defaultKey: 'primary',
    planDefaults: { pro: 'pro' },
    trustAnchors: [],
    profiles,
    now: new Date('2026-01-01T00:00:00Z'),
  });
  let monotonic = 0;
  const view = await ManagedStateView.open({ store, monotonicMs: () => monotonic, maxStalenessMs: 5000 });
  const built: string[] = [];
  const factory =
    options.factory ??
    (async (key: ManagedKey) => {
      built.push(key.name);
      return testSigner(key.name, material[key.name as keyof typeof material]);
    });
  const registry = new ManagedKeySignerRegistry({ view, factory, clock, profiles });
  const admin = new StateAdministrator({
    store,
    view,
    clock,
    profiles,
    inspect: async () => ({ ...testKey() }),
  });
  return { store, view, registry, admin, built, tick: (ms: number) => (monotonic += ms) };
}

describe('ManagedKeySignerRegistry', () => {
  describe('when a request names no key', () => {
    it('uses the plan default, else the installation default', async () => {
      const { registry, view } = await setup();
      expect(registry.resolve('kms', undefined, { plan: 'pro' }).keyId).toBe(material.pro.keyId);
      expect(registry.resolve('kms', undefined, { plan: 'free' }).keyId).toBe(material.primary.keyId);
      view.close();
    });
  });

  describe('when the default moves while a request that named no key is in flight', () => {
    it('signs with the new default once the resolved one was retired, and keeps a named key pinned', async () => {
      const { registry, view, admin } = await setup();
      const unnamed = registry.resolve('kms', undefined);
      const named = registry.resolve('kms', 'primary');
      expect(unnamed.keyId).toBe(material.primary.keyId);
      await admin.apply({ kind: 'key.set-default', name: 'secondary' }, 'c-default');
      await admin.apply({ kind: 'key.retire', name: 'primary' }, 'c-retire');
      const result = await unnamed.sign(Buffer.from('pae'));
      expect(result.dsseKeyId).toBe(material.secondary.keyId);
      expect(verify('sha256', Buffer.from('pae'), material.secondary.publicKeyPem, result.signature)).toBe(
        true,
      );
      await expect(named.sign(Buffer.from('pae'))).rejects.toMatchObject({ code: 'key_not_active' });
      view.close();
    });

    it('keeps key_not_active when no default may sign any more', async () => {
      const { registry, view, admin } = await setup();
      const unnamed = registry.resolve('kms', undefined);
      await admin.apply({ kind: 'key.revoke', name: 'primary', reason: 'leaked' }, 'c-revoke');
      await expect(unnamed.sign(Buffer.from('pae'))).rejects.toMatchObject({
        code: 'key_not_active',
        message: expect.stringContaining('revoked'),
      });
      view.close();
    });
  });

  describe('when a request names a key', () => {
    it('finds it by label or by fingerprint, and refuses an unknown one as invalid_request', async () => {
      const { registry, view } = await setup();
      expect(registry.resolve('kms', 'secondary').keyId).toBe(material.secondary.keyId);
      expect(registry.resolve('kms', material.secondary.keyId).keyId).toBe(material.secondary.keyId);
      expect(() => registry.resolve('kms', 'ghost')).toThrow(
        expect.objectContaining({ code: 'invalid_request' }),
      );
      view.close();
    });
  });

  describe('when signing', () => {
    it('publishes the fingerprint as DSSE keyid and identity, and the signature verifies', async () => {
      const { registry, view } = await setup();
      const result = await registry.resolve('kms', 'primary').sign(Buffer.from('pae'));
      expect(result.dsseKeyId).toBe(material.primary.keyId);
      expect(result.identity.keyId).toBe(material.primary.keyId);
      expect(verify('sha256', Buffer.from('pae'), material.primary.publicKeyPem, result.signature)).toBe(
        true,
      );
      view.close();
    });

    it('refuses when the material behind the reference is not the registered key', async () => {
      const { registry, view } = await setup({
        factory: async (key) => testSigner(key.name, material.secondary),
      });
      await expect(registry.resolve('kms', 'primary').sign(Buffer.from('x'))).rejects.toMatchObject({
        code: 'key_not_active',
        message: expect.stringContaining(`expected ${material.primary.keyId}`),
      });
      view.close();
    });

    it('refuses a signature whose key was revoked while the backend signed', async () => {
      const { registry, view, admin } = await setup({
        factory: async (key) => {
          const inner = testSigner(key.name, material[key.name as keyof typeof material]);
          return {
            ...inner,
            sign: async (data: Buffer) => {
              await admin.apply({ kind: 'key.revoke', name: 'secondary', reason: 'leaked' }, 'c-9');
              return inner.sign(data);
            },
          };
        },
      });
      await expect(registry.resolve('kms', 'secondary').sign(Buffer.from('x'))).rejects.toMatchObject({
        code: 'key_not_active',
      });
      view.close();
    });
  });

  describe('when the state changes through the administrator', () => {
    it('applies a revocation at once on this replica: key_not_active, default cleared', async () => {
      const { registry, view, admin, store } = await setup();
      const committed = await admin.apply({ kind: 'key.revoke', name: 'primary', reason: 'leaked' }, 'c-1');
      expect(committed.version).toBe(2);
      expect(store.stored?.version).toBe(2);
      expect(() => registry.resolve('kms', 'primary')).toThrow(
        expect.objectContaining({ code: 'key_not_active' }),
      );
      expect(() => registry.resolve('kms', undefined)).toThrow(
        expect.objectContaining({ code: 'invalid_request' }),
      );
      view.close();
    });

    it('registers a pending key that cannot sign until activated', async () => {
      const { registry, view, admin } = await setup();
      await admin.apply({ kind: 'key.register', name: 'next', ref: 'file:///k/next.pem' }, 'c-2');
      expect(() => registry.resolve('kms', 'next')).toThrow(
        expect.objectContaining({ code: 'key_not_active' }),
      );
      await admin.apply({ kind: 'key.activate', name: 'next' }, 'c-3');
      expect(registry.resolve('kms', 'next').keyId).toMatch(/^sha256:/);
      view.close();
    });

    it('re-reads and re-judges after losing a compare-and-set race', async () => {
      const { view, admin, store } = await setup();
      const cas = store.compareAndSet.bind(store);
      let raced = false;
      store.compareAndSet = async (expected, next) => {
        if (!raced) {
          raced = true;
          // Another replica commits first: same content, next version.
          const theirs = await store.load();
          if (theirs) await cas(expected, { ...theirs, version: expected + 1 });
          return false;
        }
        return cas(expected, next);
      };
      const committed = await admin.apply({ kind: 'key.retire', name: 'secondary' }, 'c-4');
      expect(committed.version).toBe(3);
      view.close();
    });
  });

  describe('when the view is older than maxStalenessMs', () => {
    it('refuses every kms request with upstream_unavailable (state) and recovers on refresh', async () => {
      const { registry, view, store, tick } = await setup();
      store.failLoads = true;
      tick(5001);
      await view.refresh();
      expect(view.freshness()).toMatchObject({ stale: true, lastError: 'store down' });
      let refused: unknown;
      try {
        registry.resolve('kms', 'primary');
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(SignerError);
      expect(refused).toMatchObject({ code: 'upstream_unavailable', upstream: 'state' });
      store.failLoads = false;
      await view.refresh();
      expect(registry.resolve('kms', 'primary').keyId).toBe(material.primary.keyId);
      view.close();
    });

    it('sees a change committed by another replica on its next refresh', async () => {
      const { registry, view, store } = await setup();
      const other = new StateAdministrator({ store, clock, profiles, inspect: async () => testKey() });
      await other.apply({ kind: 'key.revoke', name: 'secondary', reason: 'x' }, 'c-5');
      expect(registry.resolve('kms', 'secondary').keyId).toBe(material.secondary.keyId);
      await view.refresh();
      expect(() => registry.resolve('kms', 'secondary')).toThrow(
        expect.objectContaining({ code: 'key_not_active' }),
      );
      view.close();
    });
  });
});

describe('signingBlocker', () => {
  const key: ManagedKey = {
    name: 'k',
    keyId: material.primary.keyId,
    ref: 'file:///k',
    algorithm: 'ES256',
    publicKeyPem: material.primary.publicKeyPem,
    state: 'active',
    validFrom: '2026-01-01T00:00:00.000Z',
    validUntil: '2027-06-01T00:00:00.000Z',
    profile: 'yearly',
    history: [],
  };

  it('lets an active key sign inside its window', () => {
    expect(canSign(key, NOW, profiles.yearly)).toBe(true);
  });

  it.each([
    ['before validFrom', key, new Date('2025-12-31T23:59:59Z'), 'not valid before'],
    [
      'at validUntil',
      { ...key, profile: 'default' },
      new Date('2027-06-01T00:00:00Z'),
      'expired at 2027-06-01',
    ],
    ['past the profile max age', key, new Date('2027-01-01T00:00:00Z'), 'expired at 2027-01-01'],
    ['pending', { ...key, state: 'pending' as const }, NOW, 'is pending'],
    ['retired', { ...key, state: 'retired' as const }, NOW, 'is retired'],
  ])('refuses a key %s', (_, candidate, at, reason) => {
    expect(signingBlocker(candidate, at, profiles[candidate.profile as keyof typeof profiles])).toContain(
      reason,
    );
  });

  it('warns within the profile warning period only', () => {
    expect(inWarningPeriod(key, NOW, profiles.yearly)).toBe(true);
    expect(inWarningPeriod(key, new Date('2026-06-01T00:00:00Z'), profiles.yearly)).toBe(false);
  });
});
