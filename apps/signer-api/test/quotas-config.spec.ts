import { ConfigError, validateConfig } from '../src/config/load-config';
import { readinessChecks } from '../src/wiring/readiness';
import type { SharedState } from '../src/wiring/shared-state';
import { minimalConfig } from '../src/config/minimal-config.fixture';

const base = (licensing: Record<string, unknown>, quotas: Record<string, unknown> = {}) =>
  minimalConfig({
    licensing,
    quotas: {
      plans: { pro: { qps: 10, burst: 10, concurrency: 2, maxArtifactBytes: 1000, dailyCap: 10 } },
      ...quotas,
    },
  });

const problem = (raw: unknown): string => {
  try {
    validateConfig(raw, '/etc/signer');
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('entitlement and quota configuration', () => {
  describe('when online Licensing and the Redis store are configured', () => {
    it('accepts them, with the documented defaults', () => {
      const config = validateConfig(
        base(
          { introspectUrl: 'https://licensing.example/api/v1/licensing/introspect' },
          { store: 'redis', redisUrl: 'redis://redis.example:6379' },
        ),
        '/etc/signer',
      );
      expect(config.licensing).toMatchObject({
        cacheTtlSeconds: 120,
        negativeCacheTtlSeconds: 30,
        timeoutMs: 2000,
      });
      expect(config.quotas).toMatchObject({ store: 'redis', redisKeyPrefix: 'signer:', leaseSeconds: 30 });
    });

    it('adds a Licensing reachability check to /readyz', () => {
      const config = validateConfig(base({ introspectUrl: 'http://127.0.0.1:1/introspect' }), '/etc/signer');
      const state = { redis: undefined } as unknown as SharedState;
      expect(readinessChecks(config, state).map((check) => check.name)).toContain('licensing');
    });
  });

  describe('when a key is wrong', () => {
    it.each([
      [
        'an introspectUrl that is not http(s)',
        base({ introspectUrl: 'ftp://licensing.example/x' }),
        'licensing.introspectUrl',
      ],
      [
        'both Licensing sources',
        base({ introspectUrl: 'https://l.example/i', offlineJwksFile: 'k.json' }),
        'licensing',
      ],
      ['a zero lease', base({ offlineJwksFile: 'k.json' }, { leaseSeconds: 0 }), 'quotas.leaseSeconds'],
      [
        'an empty key prefix',
        base({ offlineJwksFile: 'k.json' }, { redisKeyPrefix: '' }),
        'quotas.redisKeyPrefix',
      ],
      ['redis without a URL', base({ offlineJwksFile: 'k.json' }, { store: 'redis' }), 'quotas.redisUrl'],
    ])('refuses %s, naming the key', (_name, raw, key) => {
      expect(problem(raw)).toContain(key);
    });
  });
});
