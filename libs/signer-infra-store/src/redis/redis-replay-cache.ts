import type { ReplayCache } from '@signer/core';
import type { RedisConnection } from './redis-connection';
import type { RedisClient } from './redis-topology';

/**
 * Single-use keys across replicas: one atomic `SET key 1 NX EX ttl`; only the first caller gets OK.
 * The key is its own hash tag (one key, one slot). With `minReplicaAcks` a first sighting counts
 * only once replicas hold it, so a failover cannot forget a proof already accepted.
 */
export class RedisReplayCache implements ReplayCache {
  constructor(private readonly connection: RedisConnection) {}

  async firstSeen(key: string, ttlSeconds: number): Promise<boolean> {
    if (!(ttlSeconds > 0)) throw new RangeError('replay TTL must be positive');
    const redisKey = this.connection.key('replay', key);
    const result = await this.connection.runDurable<string | null>(
      'replay set',
      (target) => (target as RedisClient).set(redisKey, '1', 'EX', Math.ceil(ttlSeconds), 'NX'),
      // Not acknowledged: the proof is refused (503), so its entry goes and a retry is not a replay.
      async (set) => (set === 'OK' ? this.connection.client.del(redisKey) : undefined),
    );
    return result === 'OK';
  }
}
