import { SignerError } from '@signer/core';
import Redis from 'ioredis';

export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 1000;
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 2000;

export interface RedisConnectionOptions {
  url: string;
  /** Key prefix shared by every store of one installation (`signer:` by default). */
  keyPrefix?: string;
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/**
 * One ioredis client for all shared state. Fail closed: commands do not queue while Redis is down
 * (`enableOfflineQueue: false`), time out, and surface as `upstream_unavailable` (upstream redis).
 */
export class RedisConnection {
  readonly client: Redis;
  readonly prefix: string;

  constructor(options: RedisConnectionOptions) {
    this.prefix = options.keyPrefix ?? 'signer:';
    this.client = new Redis(options.url, {
      lazyConnect: true,
      // No auto-pipelining: when a connection fails under it, ioredis 5 can throw from a callback
      // ("results[i] is not iterable", redis/ioredis#1931) and crash the process; the soak's Redis
      // restart caught exactly that. A fail-closed 503 is the answer to a Redis fault, not a crash.
      enableAutoPipelining: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
      connectTimeout: options.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    });
    // Connection errors are reported per command (as 503); the event must not crash the process.
    this.client.on('error', () => undefined);
  }

  /** Connects at start-up; a Signer configured for Redis does not start without it. */
  async connect(): Promise<void> {
    await this.client.connect();
  }

  key(...parts: string[]): string {
    return `${this.prefix}${parts.join(':')}`;
  }

  /** Runs a command, mapping every failure to a fail-closed `upstream_unavailable`. */
  async run<T>(what: string, command: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await command(this.client);
    } catch (error) {
      throw new SignerError('upstream_unavailable', `redis ${what} failed`, {
        cause: error,
        upstream: 'redis',
        retryAfterSeconds: 1,
      });
    }
  }

  async ping(): Promise<void> {
    await this.run('ping', (client) => client.ping());
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
