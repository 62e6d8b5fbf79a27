import { randomBytes } from 'node:crypto';
import type { NonceStore } from '@signer/core';
import type { RedisConnection } from './redis-connection';

export interface RedisNonceStoreOptions {
  connection: RedisConnection;
  ttlSeconds: number;
}

/** DPoP nonces (128-bit random) stored in Redis with a TTL: issued by one replica, accepted by all. */
export class RedisNonceStore implements NonceStore {
  constructor(private readonly options: RedisNonceStoreOptions) {}

  async issue(): Promise<string> {
    const nonce = randomBytes(16).toString('base64url');
    const { connection, ttlSeconds } = this.options;
    await connection.run('nonce set', (client) =>
      client.set(connection.key('nonce', nonce), '1', 'EX', ttlSeconds),
    );
    return nonce;
  }

  async isValid(nonce: string): Promise<boolean> {
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) return false;
    const { connection } = this.options;
    return (
      (await connection.run('nonce get', (client) => client.exists(connection.key('nonce', nonce)))) === 1
    );
  }
}
