import { parseRedisNodes, type RedisConnectionOptions } from '@signer/infra-store';
import type { SignerConfig } from './config-schema';

/**
 * Cross-key rules of the Redis connection (`quotas.redisUrl` or `quotas.redis`). Credentials and
 * TLS travel in the URLs in both forms (`rediss://user:password@host:port`), so a cluster or a
 * sentinel set is configured the way one server always was.
 */
export function redisProblems(config: SignerConfig): string[] {
  const { store, redisUrl, redis, redisKeyPrefix } = config.quotas;
  // (A redisUrl beside the memory store has always been accepted and ignored; it stays so.)
  if (store !== 'redis') return redis === undefined ? [] : ['quotas.redis: only used when store is redis'];
  if ((redisUrl === undefined) === (redis === undefined))
    return ['quotas.redisUrl: required when store is redis (or quotas.redis, never both)'];
  if (!redis) return [];
  const problems: string[] = [];
  if (redis.mode === 'standalone' && redis.nodes.length !== 1)
    problems.push(
      `quotas.redis.nodes: expected exactly one URL in standalone mode, got ${redis.nodes.length}`,
    );
  if (redis.mode === 'sentinel' && redis.masterName === undefined)
    problems.push('quotas.redis.masterName: required when mode is sentinel');
  if (redis.mode !== 'sentinel' && redis.masterName !== undefined)
    problems.push('quotas.redis.masterName: only used when mode is sentinel');
  if (redis.mode === 'cluster' && /[{}]/.test(redisKeyPrefix))
    // A brace in the prefix would become the hash tag of every key: one slot for the whole cluster.
    problems.push('quotas.redisKeyPrefix: expected no { or } when quotas.redis.mode is cluster');
  if (redis.mode !== 'standalone') {
    try {
      parseRedisNodes(redis.nodes, redis.mode === 'sentinel' ? 26379 : 6379);
    } catch (error) {
      problems.push(`quotas.redis.nodes: ${(error as Error).message}`);
    }
  }
  return problems;
}

/** The connection options of a valid `quotas` section whose store is redis. */
export function redisConnectionOptions(config: SignerConfig): RedisConnectionOptions {
  const { redisUrl, redis, redisKeyPrefix } = config.quotas;
  const keyPrefix = redisKeyPrefix;
  if (!redis) return { url: redisUrl as string, keyPrefix };
  const acks = { minReplicaAcks: redis.minReplicaAcks, replicaAckTimeoutMs: redis.replicaAckTimeoutMs };
  if (redis.mode === 'cluster')
    return { topology: { mode: 'cluster', nodes: redis.nodes }, keyPrefix, ...acks };
  if (redis.mode === 'sentinel') {
    const masterName = redis.masterName as string;
    return { topology: { mode: 'sentinel', sentinels: redis.nodes, masterName }, keyPrefix, ...acks };
  }
  return { url: redis.nodes[0] as string, keyPrefix, ...acks };
}
