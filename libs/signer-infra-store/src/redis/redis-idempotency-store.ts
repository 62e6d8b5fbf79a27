import type { IdempotencyClaim, IdempotencyStore, StoredOutcome } from '@signer/core';
import type { RedisConnection } from './redis-connection';

type Stored = { fingerprint: string; outcome?: StoredOutcome };

/**
 * Idempotency records in Redis: the claim is one atomic `SET NX EX`, so exactly one replica runs a
 * request for a key; the others read the pending or finished record.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(private readonly connection: RedisConnection) {}

  async claim(key: string, fingerprint: string, ttlSeconds: number): Promise<IdempotencyClaim> {
    const redisKey = this.connection.key('idem', key);
    const pending = JSON.stringify({ fingerprint } satisfies Stored);
    const set = await this.connection.run('idempotency claim', (client) =>
      client.set(redisKey, pending, 'EX', ttlSeconds, 'NX'),
    );
    if (set === 'OK') return { state: 'claimed' };
    const raw = await this.connection.run('idempotency read', (client) => client.get(redisKey));
    // Expired between the two commands: treat as still pending; the caller's wait loop claims again.
    if (raw === null) return { state: 'pending', fingerprint };
    const stored = JSON.parse(raw) as Stored;
    return stored.outcome
      ? { state: 'done', fingerprint: stored.fingerprint, outcome: stored.outcome }
      : { state: 'pending', fingerprint: stored.fingerprint };
  }

  async complete(
    key: string,
    fingerprint: string,
    outcome: StoredOutcome,
    ttlSeconds: number,
  ): Promise<void> {
    const value = JSON.stringify({ fingerprint, outcome } satisfies Stored);
    await this.connection.run('idempotency complete', (client) =>
      client.set(this.connection.key('idem', key), value, 'EX', ttlSeconds),
    );
  }

  async release(key: string): Promise<void> {
    await this.connection.run('idempotency release', (client) =>
      client.del(this.connection.key('idem', key)),
    );
  }
}
