import { randomBytes } from 'node:crypto';
import { systemClock, type Clock, type NonceStore } from '@signer/core';
import { MemoryTtlCache } from '../memory/memory-ttl-cache';
import { DEFAULT_LOCAL_TIER_SECONDS, localTtlSeconds } from './local-tier';
import type { RedisConnection } from './redis-connection';

export interface RedisNonceStoreOptions {
  connection: RedisConnection;
  ttlSeconds: number;
  /** How long a replica remembers a nonce it saw valid (never past the nonce's own expiry). */
  localSeconds?: number;
  clock?: Clock;
}

/**
 * DPoP nonces (128-bit random) stored in Redis with a TTL: issued by one replica, accepted by all.
 * A caller sends the same nonce with many proofs, so a replica remembers a nonce it found valid
 * for a few seconds, never past the expiry Redis reported for it.
 */
export class RedisNonceStore implements NonceStore {
  private readonly known: MemoryTtlCache<true>;
  private readonly clock: Clock;
  private readonly localSeconds: number;

  constructor(private readonly options: RedisNonceStoreOptions) {
    this.clock = options.clock ?? systemClock;
    this.localSeconds = options.localSeconds ?? DEFAULT_LOCAL_TIER_SECONDS;
    localTtlSeconds(0, 0, this.localSeconds); // validates it at construction
    this.known = new MemoryTtlCache<true>({ clock: this.clock });
  }

  async issue(): Promise<string> {
    const nonce = randomBytes(16).toString('base64url');
    const { connection, ttlSeconds } = this.options;
    const now = this.clock.now().getTime();
    await connection.run('nonce set', (client) =>
      client.set(connection.key('nonce', nonce), '1', 'EX', ttlSeconds),
    );
    await this.known.set(nonce, true, localTtlSeconds(now + ttlSeconds * 1000, now, this.localSeconds));
    return nonce;
  }

  async isValid(nonce: string): Promise<boolean> {
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) return false;
    if (await this.known.get(nonce)) return true;
    const now = this.clock.now().getTime();
    const { connection } = this.options;
    // PTTL: -2 when the nonce does not exist, its remaining life in ms otherwise.
    const remainingMs = await connection.run('nonce get', (client) =>
      client.pttl(connection.key('nonce', nonce)),
    );
    if (remainingMs === -2) return false;
    if (remainingMs > 0)
      await this.known.set(nonce, true, localTtlSeconds(now + remainingMs, now, this.localSeconds));
    return true;
  }
}
