import { SignerError } from '@signer/core';
import type { ChainableCommander } from 'ioredis';
import { createRedisClient, type RedisClient, type RedisTopology } from './redis-topology';

export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 1000;
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 2000;
/** How long a durable write waits for its replica acknowledgements before it fails closed. */
export const DEFAULT_REDIS_REPLICA_ACK_TIMEOUT_MS = 200;
/** Pause before an ended client (not closed by us) connects again. */
const RECONNECT_AFTER_END_MS = 100;

export interface RedisConnectionOptions {
  /** One standalone Redis (`redis://…`, `rediss://…`): shorthand for `{ mode: 'standalone', url }`. */
  url?: string;
  /** Standalone, Cluster or Sentinel; exactly one of `url` and `topology`. */
  topology?: RedisTopology;
  /** Key prefix shared by every store of one installation (`signer:` by default). */
  keyPrefix?: string;
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /**
   * Replicas that must acknowledge a durable write (quota acquire, DPoP replay entry) before the
   * Signer acts on it (`WAIT n`). 0 (the default) trusts the master alone, as Redis replication
   * does: a failover may then lose the last writes. See docs/decisions.md (Redis topologies).
   */
  minReplicaAcks?: number;
  replicaAckTimeoutMs?: number;
}

/**
 * Where a durable write is issued: the client itself (its call returns the reply), or a pipeline
 * (the same methods; the reply comes from `exec`). Callers call it as a {@link RedisClient}.
 */
export type DurableTarget = RedisClient | ChainableCommander;

/**
 * One ioredis client (standalone, Cluster or Sentinel) for all shared state. Fail closed: commands
 * do not queue while Redis is down (`enableOfflineQueue: false`), time out, and surface as
 * `upstream_unavailable` (upstream redis). Every multi-key script keeps its keys in one hash slot.
 */
export class RedisConnection {
  readonly client: RedisClient;
  readonly prefix: string;
  readonly minReplicaAcks: number;
  private readonly replicaAckTimeoutMs: number;
  private readonly deadlineMs: number;
  private closed = false;

  constructor(options: RedisConnectionOptions) {
    if ((options.url === undefined) === (options.topology === undefined)) {
      throw new RangeError('RedisConnection: expected exactly one of url and topology');
    }
    this.prefix = options.keyPrefix ?? 'signer:';
    this.minReplicaAcks = options.minReplicaAcks ?? 0;
    if (!Number.isSafeInteger(this.minReplicaAcks) || this.minReplicaAcks < 0) {
      throw new RangeError(`minReplicaAcks: expected an integer ≥ 0, got ${String(this.minReplicaAcks)}`);
    }
    this.replicaAckTimeoutMs = options.replicaAckTimeoutMs ?? DEFAULT_REDIS_REPLICA_ACK_TIMEOUT_MS;
    const topology = options.topology ?? { mode: 'standalone', url: options.url as string };
    const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS;
    // commandTimeout starts when a command is written to a node; a Cluster command waiting out a
    // failover (retried every 100 ms, not yet written anywhere) has none. This bounds the whole call.
    this.deadlineMs = 2 * commandTimeoutMs + this.replicaAckTimeoutMs;
    this.client = createRedisClient(topology, {
      commandTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
    });
    // Connection errors are reported per command (as 503); the event must not crash the process.
    this.client.on('error', () => undefined);
    // ioredis 5 can end a Sentinel client for good: a `+switch-master` seen by the failover
    // detector of the previous connection while the client is reconnecting aborts that connect,
    // and the client goes to `end` ("Connection is closed" on every command, forever). Only
    // close() may end it: any other end is followed by a fresh connect (asking the sentinels
    // again), after a short pause so a client that keeps ending cannot spin.
    this.client.on('end', () => {
      if (this.closed) return;
      setTimeout(() => {
        if (!this.closed && this.client.status === 'end') this.client.connect().catch(() => undefined);
      }, RECONNECT_AFTER_END_MS).unref();
    });
  }

  /** Connects at start-up; a Signer configured for Redis does not start without it. */
  async connect(): Promise<void> {
    await this.client.connect();
  }

  key(...parts: string[]): string {
    return `${this.prefix}${parts.join(':')}`;
  }

  /** Runs a command, mapping every failure to a fail-closed `upstream_unavailable`. */
  async run<T>(what: string, command: (client: RedisClient) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.deadlineMs} ms`)), this.deadlineMs);
    });
    try {
      return await Promise.race([command(this.client), deadline]);
    } catch (error) {
      throw unavailable(what, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs one write that a failover must not lose, then `WAIT minReplicaAcks` on the same node (one
   * pipeline: on a Cluster both go to the master of the write's slot). Fewer acknowledgements than
   * required is `upstream_unavailable`: the caller must not act on a write a promoted replica may
   * lack (an admission the new master would not count, a replay entry it would not know). `undo`
   * then takes the write back on the master (best effort), so a refusal costs the caller nothing.
   */
  async runDurable<T>(
    what: string,
    write: (target: DurableTarget) => unknown,
    undo?: (result: T) => Promise<unknown>,
  ): Promise<T> {
    const wanted = this.minReplicaAcks;
    // Without acks the write goes straight to the client, exactly as before (no pipeline).
    if (wanted === 0) return this.run(what, async (client) => (await write(client)) as T);
    const [result, acks] = await this.run(what, async (client) => {
      const pipeline = client.pipeline();
      write(pipeline);
      pipeline.wait(wanted, this.replicaAckTimeoutMs);
      const replies = (await pipeline.exec()) ?? [];
      return [resultOf<T>(replies.slice(0, 1)), resultOf<number>(replies.slice(1))] as const;
    });
    if (acks < wanted) {
      await undo?.(result).catch(() => undefined);
      throw unavailable(what, new Error(`expected ${wanted} replica acknowledgements, got ${acks}`));
    }
    return result;
  }

  async ping(): Promise<void> {
    await this.run('ping', (client) => client.ping());
  }

  async close(): Promise<void> {
    this.closed = true;
    this.client.disconnect();
  }
}

function resultOf<T>(replies: Array<[Error | null, unknown]> | null): T {
  const [reply] = replies ?? [];
  if (!reply) throw new Error('the pipeline returned no reply');
  if (reply[0]) throw reply[0];
  return reply[1] as T;
}

function unavailable(what: string, cause: unknown): SignerError {
  return new SignerError('upstream_unavailable', `redis ${what} failed`, {
    cause,
    upstream: 'redis',
    retryAfterSeconds: 1,
  });
}
