import { ConfigError, validateConfig } from './load-config';
import { minimalConfig } from './minimal-config.fixture';

function refusal(sections: Record<string, unknown>): string {
  try {
    validateConfig(minimalConfig(sections), '/etc/signer');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('managed state and key lifecycle configuration', () => {
  describe('when an existing configuration sets none of the new keys', () => {
    it('loads unchanged, with a memory store and the documented bounds', () => {
      const loaded = validateConfig(minimalConfig(), '/etc/signer');
      expect(loaded.state).toEqual({ store: 'memory', refreshIntervalMs: 1000, maxStalenessMs: 5000 });
      expect(loaded.signing.rotation).toEqual({ profiles: {} });
      expect(loaded.signing.defaultKey).toBeUndefined();
    });
  });

  describe('when the seed and the rotation policy are set', () => {
    it('accepts them', () => {
      const loaded = validateConfig(
        minimalConfig({
          signing: {
            keys: {
              default: { ref: 'file://key.pem', profile: 'yearly', validFrom: '2026-01-01T00:00:00Z' },
              next: { ref: 'file://next.pem', state: 'pending' },
            },
            defaultKey: 'default',
            planDefaults: { pro: 'default' },
            rotation: { profiles: { yearly: { algorithms: ['ES256'], maxAgeDays: 365 } } },
          },
          state: { store: 'postgres', postgresUrl: 'postgres://signer@db/signer' },
        }),
        '/etc/signer',
      );
      expect(loaded.signing.rotation.profiles['yearly']).toEqual({
        algorithms: ['ES256'],
        maxAgeDays: 365,
        warningDays: 30,
      });
    });
  });

  describe('when the settings contradict each other', () => {
    it.each([
      [{ state: { store: 'postgres' } }, 'state.postgresUrl: required when store is postgres'],
      [{ state: { store: 'file' } }, 'state.filePath: required when store is file'],
      [{ state: { postgresUrl: 'postgres://x/y' } }, 'state.postgresUrl: only used when store is postgres'],
      [
        { state: { refreshIntervalMs: 2000, maxStalenessMs: 2000 } },
        'state.maxStalenessMs: expected more than state.refreshIntervalMs (2000), got 2000',
      ],
      [
        { signing: { keys: { default: { ref: 'file://k.pem', profile: 'nope' } } } },
        'signing.keys.default.profile: expected a profile of signing.rotation.profiles, got "nope"',
      ],
      [
        { signing: { keys: { default: { ref: 'file://k.pem', state: 'pending' } }, defaultKey: 'default' } },
        'signing.defaultKey: expected an active key, got "default"',
      ],
      [
        { signing: { keys: { default: { ref: 'file://k.pem' } }, planDefaults: { gold: 'ghost' } } },
        'signing.planDefaults.gold: expected a plan of quotas.plans',
      ],
      [{ signing: { keys: { default: { ref: 'file://k.pem', validFrom: '2026-01-01' } } } }, 'validFrom'],
    ])('refuses %j', (sections, message) => {
      expect(refusal(sections)).toContain(message);
    });
  });
});
