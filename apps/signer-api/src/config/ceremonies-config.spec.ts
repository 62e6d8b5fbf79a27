import { ceremonyFilePath, ceremonyPolicyOf } from './ceremonies-config';
import { ConfigError, validateConfig } from './load-config';
import { minimalConfig } from './minimal-config.fixture';

const load = (sections: Record<string, unknown>) => validateConfig(minimalConfig(sections), '/etc/signer');

function refusal(sections: Record<string, unknown>): string {
  try {
    load(sections);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('ceremonies configuration', () => {
  describe('when the section is absent', () => {
    it('uses 2 approvals for key and anchor changes, 1 for key.register, and a 24 h expiry', () => {
      const config = load({});
      expect(config.ceremonies).toMatchObject({ expirySeconds: 86400, operations: {} });
      const policy = ceremonyPolicyOf(config);
      expect(policy.expirySeconds).toBe(86400);
      expect(policy.approvers).toBeUndefined();
      expect(
        Object.fromEntries(Object.entries(policy.operations).map(([kind, p]) => [kind, p.approvals])),
      ).toEqual({
        'key.register': 2,
        'key.activate': 2,
        'key.retire': 2,
        'key.revoke': 2,
        'key.set-default': 2,
        'trust-anchor.add': 2,
        'trust-anchor.remove': 2,
      });
    });
  });

  describe('when operations and approvers are set', () => {
    it('takes per-kind approvals and expiry over the defaults', () => {
      const config = load({
        ceremonies: {
          expirySeconds: 3600,
          approvers: ['ops-bob', 'ops-carol', 'ops-dave'],
          operations: { 'key.revoke': { approvals: 3, expirySeconds: 600 } },
        },
      });
      const policy = ceremonyPolicyOf(config);
      expect(policy.operations['key.revoke']).toEqual({ approvals: 3, expirySeconds: 600 });
      expect(policy.operations['key.retire']).toEqual({ approvals: 2 });
      expect(policy.approvers).toEqual(['ops-bob', 'ops-carol', 'ops-dave']);
    });

    it('refuses a threshold above the number of approvers at load', () => {
      expect(
        refusal({ ceremonies: { approvers: ['ops-bob'], operations: { 'key.register': { approvals: 1 } } } }),
      ).toContain(
        'ceremonies.operations.key.activate.approvals: expected at most 1 (the number of ceremonies.approvers), got 2',
      );
    });

    it('refuses an unknown operation kind and a zero threshold', () => {
      expect(refusal({ ceremonies: { operations: { 'key.delete': { approvals: 1 } } } })).toContain(
        'key.delete',
      );
      expect(refusal({ ceremonies: { operations: { 'key.revoke': { approvals: 0 } } } })).toContain(
        'approvals',
      );
    });
  });

  describe('the bound on open ceremonies per initiator', () => {
    it('defaults to 20', () => {
      const config = load({});
      expect(config.ceremonies.maxOpenPerInitiator).toBe(20);
      expect(ceremonyPolicyOf(config).maxOpenPerInitiator).toBe(20);
    });

    it('takes an explicit value into the policy', () => {
      expect(ceremonyPolicyOf(load({ ceremonies: { maxOpenPerInitiator: 3 } })).maxOpenPerInitiator).toBe(3);
    });

    it('refuses 0 and more than 1000 at load', () => {
      expect(refusal({ ceremonies: { maxOpenPerInitiator: 0 } })).toContain('maxOpenPerInitiator');
      expect(refusal({ ceremonies: { maxOpenPerInitiator: 1001 } })).toContain('maxOpenPerInitiator');
    });
  });

  describe('where ceremonies are stored', () => {
    it('follows state.store, next to state.filePath for a file store', () => {
      const config = load({ state: { store: 'file', filePath: 'state/managed-state.json' } });
      expect(ceremonyFilePath(config)).toMatch(/state\/ceremonies\.json$/);
    });

    it('refuses ceremonies.filePath when the state is not in a file', () => {
      expect(refusal({ ceremonies: { filePath: 'c.json' } })).toContain(
        'ceremonies.filePath: only used when state.store is file',
      );
    });
  });
});
