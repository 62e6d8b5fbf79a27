import type { ReplayCache } from '@signer/core';
import type { RedisConnection } from './redis-connection';

/** Single-use keys across replicas: one atomic `SET key 1 NX EX ttl`; only the first caller gets OK. */
export class RedisReplayCache implements ReplayCache {
  constructor(private readonly connection: RedisConnection) {}

  async firstSeen(key: string, ttlSeconds: number): Promise<boolean> {
    if (!(ttlSeconds > 0)) throw new RangeError('replay TTL must be positive');
    const result = await this.connection.run('replay set', (client) =>
      client.set(this.connection.key('replay', key), '1', 'EX', Math.ceil(ttlSeconds), 'NX'),
    );
    return result === 'OK';
  }
}
