import { ConfigError, validateConfig } from '../src/config/load-config';
import { redisConnectionOptions } from '../src/config/redis-config';
import { minimalConfig } from '../src/config/minimal-config.fixture';

const withQuotas = (quotas: Record<string, unknown>) =>
  minimalConfig({
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

describe('quotas.redis (standalone, cluster, sentinel)', () => {
  describe('when quotas.redisUrl is used as before', () => {
    it('connects to that one server, trusting the master alone', () => {
      const config = validateConfig(
        withQuotas({ store: 'redis', redisUrl: 'rediss://u:p@redis.example:6380/2' }),
        '/etc/signer',
      );
      expect(redisConnectionOptions(config)).toEqual({
        url: 'rediss://u:p@redis.example:6380/2',
        keyPrefix: 'signer:',
      });
    });
  });

  describe('when a cluster is configured by seed nodes', () => {
    it('builds a cluster topology with the documented defaults', () => {
      const nodes = ['rediss://u:p@r1.example:7000', 'rediss://u:p@r2.example:7000'];
      const config = validateConfig(
        withQuotas({ store: 'redis', redis: { mode: 'cluster', nodes } }),
        '/etc/signer',
      );
      expect(redisConnectionOptions(config)).toEqual({
        topology: { mode: 'cluster', nodes },
        keyPrefix: 'signer:',
        minReplicaAcks: 0,
        replicaAckTimeoutMs: 200,
      });
    });
  });

  describe('when a sentinel set is configured', () => {
    it('builds a sentinel topology naming the master', () => {
      const config = validateConfig(
        withQuotas({
          store: 'redis',
          redis: { mode: 'sentinel', nodes: ['redis://s1:26379'], masterName: 'signer', minReplicaAcks: 1 },
        }),
        '/etc/signer',
      );
      expect(redisConnectionOptions(config)).toMatchObject({
        topology: { mode: 'sentinel', sentinels: ['redis://s1:26379'], masterName: 'signer' },
        minReplicaAcks: 1,
      });
    });
  });

  describe('when a key is wrong', () => {
    it.each([
      [
        'both redisUrl and redis',
        { redisUrl: 'redis://r:6379', redis: { mode: 'cluster', nodes: ['redis://r:7000'] } },
        'quotas.redisUrl',
      ],
      ['neither redisUrl nor redis', {}, 'quotas.redisUrl'],
      ['a cluster without seed nodes', { redis: { mode: 'cluster', nodes: [] } }, 'quotas.redis.nodes'],
      [
        'a sentinel set without masterName',
        { redis: { mode: 'sentinel', nodes: ['redis://s:26379'] } },
        'quotas.redis.masterName',
      ],
      [
        'masterName outside sentinel mode',
        { redis: { mode: 'cluster', nodes: ['redis://r:7000'], masterName: 'm' } },
        'quotas.redis.masterName',
      ],
      [
        'two standalone URLs',
        { redis: { mode: 'standalone', nodes: ['redis://a:1', 'redis://b:1'] } },
        'quotas.redis.nodes',
      ],
      [
        'a node that is not a redis URL',
        { redis: { mode: 'cluster', nodes: ['http://r:7000'] } },
        'quotas.redis.nodes',
      ],
      [
        'a database number on a cluster node',
        { redis: { mode: 'cluster', nodes: ['redis://r:7000/3'] } },
        'quotas.redis.nodes',
      ],
      [
        'mixed TLS across nodes',
        { redis: { mode: 'cluster', nodes: ['redis://a:7000', 'rediss://b:7000'] } },
        'quotas.redis.nodes',
      ],
      [
        'mixed credentials across nodes',
        { redis: { mode: 'cluster', nodes: ['redis://u:p@a:7000', 'redis://u:q@b:7000'] } },
        'quotas.redis.nodes',
      ],
      [
        'a brace in the key prefix of a cluster',
        { redisKeyPrefix: 'signer:{x}:', redis: { mode: 'cluster', nodes: ['redis://r:7000'] } },
        'quotas.redisKeyPrefix',
      ],
      [
        'too many replica acks',
        { redis: { mode: 'cluster', nodes: ['redis://r:7000'], minReplicaAcks: 9 } },
        'quotas.redis.minReplicaAcks',
      ],
    ])('refuses %s, naming the key', (_name, quotas, key) => {
      expect(problem(withQuotas({ store: 'redis', ...quotas }))).toContain(key);
    });

    it('refuses quotas.redis with the memory store', () => {
      expect(problem(withQuotas({ redis: { mode: 'cluster', nodes: ['redis://r:7000'] } }))).toContain(
        'quotas.redis: only used when store is redis',
      );
    });

    it('never echoes a node password', () => {
      const message = problem(
        withQuotas({
          store: 'redis',
          redis: { mode: 'cluster', nodes: ['redis://u:s3cret@a:7000', 'redis://b:7000'] },
        }),
      );
      expect(message).not.toContain('s3cret');
    });
  });
});
