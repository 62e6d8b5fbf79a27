import { randomBytes } from 'node:crypto';
import type { NonceStore } from '@signer/core';
import { DEFAULT_LOCAL_TIER_SECONDS, LocalTier } from './local-tier';
import type { RedisConnection } from './redis-connection';

export interface RedisNonceStoreOptions {
  connection: RedisConnection;
  ttlSeconds: number;
  /** How long a replica remembers a nonce it saw valid (never past the nonce's own expiry). */
  localSeconds?: number;
  nowMs?: () => number;
}

/**
 * DPoP nonces (128-bit random) stored in Redis with a TTL: issued by one replica, accepted by all.
 * A caller sends the same nonce with many proofs, so a replica remembers a nonce it found valid
 * for a few seconds, never past the expiry Redis reported for it.
 */
export class RedisNonceStore implements NonceStore {
  private readonly known: LocalTier<true>;
  private readonly nowMs: () => number;

  constructor(private readonly options: RedisNonceStoreOptions) {
    this.known = new LocalTier<true>(options.localSeconds ?? DEFAULT_LOCAL_TIER_SECONDS);
    this.nowMs = options.nowMs ?? Date.now;
  }

  async issue(): Promise<string> {
    const nonce = randomBytes(16).toString('base64url');
    const { connection, ttlSeconds } = this.options;
    const now = this.nowMs();
    await connection.run('nonce set', (client) =>
      client.set(connection.key('nonce', nonce), '1', 'EX', ttlSeconds),
    );
    this.known.set(nonce, true, now + ttlSeconds * 1000, now);
    return nonce;
  }

  async isValid(nonce: string): Promise<boolean> {
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(nonce)) return false;
    const now = this.nowMs();
    if (this.known.get(nonce, now)) return true;
    const { connection } = this.options;
    // PTTL: -2 when the nonce does not exist, its remaining life in ms otherwise.
    const remainingMs = await connection.run('nonce get', (client) =>
      client.pttl(connection.key('nonce', nonce)),
    );
    if (remainingMs === -2) return false;
    if (remainingMs > 0) this.known.set(nonce, true, now + remainingMs, now);
    return true;
  }
}
