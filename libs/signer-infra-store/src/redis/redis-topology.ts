import Redis, { Cluster, type RedisOptions } from 'ioredis';

/**
 * Where the shared state lives. `standalone` is one Redis URL (what `quotas.redisUrl` has always
 * meant); `cluster` is a Redis Cluster found through seed nodes; `sentinel` is a replicated Redis
 * whose current master the sentinels name. Every node URL is `redis://` or `rediss://` (TLS), with
 * optional `user:password@`; one deployment uses one scheme and one credential on every node.
 */
export type RedisTopology =
  | { mode: 'standalone'; url: string }
  | { mode: 'cluster'; nodes: readonly string[] }
  | { mode: 'sentinel'; sentinels: readonly string[]; masterName: string };

/** Either ioredis client; both run the same commands and `defineCommand` scripts. */
export type RedisClient = Redis | Cluster;

export interface RedisNodeAddress {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
}

/** Parses one node URL; refuses anything but `redis(s)://[user:password@]host[:port]`. */
export function parseRedisNode(url: string, defaultPort = 6379): RedisNodeAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(`redis node: expected redis://host:port or rediss://host:port, got an invalid URL`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RangeError(`redis node: expected the scheme redis: or rediss:, got ${parsed.protocol}`);
  }
  if ((parsed.pathname && parsed.pathname !== '/') || parsed.search) {
    // Cluster has no databases, and a sentinel names its master itself: a path would be ignored.
    throw new RangeError(`redis node ${parsed.host}: expected no path or query (no database number)`);
  }
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : defaultPort,
    tls: parsed.protocol === 'rediss:',
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}

/** Parses a list of node URLs that must share one scheme and one credential. */
export function parseRedisNodes(urls: readonly string[], defaultPort = 6379): RedisNodeAddress[] {
  if (urls.length === 0) throw new RangeError('redis nodes: expected at least one node URL');
  const nodes = urls.map((url) => parseRedisNode(url, defaultPort));
  const [first] = nodes as [RedisNodeAddress];
  for (const node of nodes) {
    if (node.tls !== first.tls || node.username !== first.username || node.password !== first.password) {
      throw new RangeError(
        `redis nodes: expected one scheme and one credential on every node, got a different one on ${node.host}:${node.port}`,
      );
    }
  }
  return nodes;
}

/** The fail-closed settings every connection of every mode shares (see RedisConnection). */
export interface FailClosedOptions {
  commandTimeoutMs: number;
  connectTimeoutMs: number;
}

function failClosed(options: FailClosedOptions): RedisOptions {
  return {
    lazyConnect: true,
    // No auto-pipelining: when a connection fails under it, ioredis 5 can throw from a callback
    // ("results[i] is not iterable", redis/ioredis#1931) and crash the process; the soak's Redis
    // restart caught exactly that. A fail-closed 503 is the answer to a Redis fault, not a crash.
    enableAutoPipelining: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
  };
}

const retryStrategy = (attempt: number) => Math.min(attempt * 100, 1000);

/** Builds the ioredis client of a topology (not yet connected). */
export function createRedisClient(topology: RedisTopology, options: FailClosedOptions): RedisClient {
  const base = failClosed(options);
  if (topology.mode === 'standalone') {
    return new Redis(topology.url, { ...base, enableOfflineQueue: false, retryStrategy });
  }
  if (topology.mode === 'cluster') {
    const nodes = parseRedisNodes(topology.nodes);
    const [first] = nodes as [RedisNodeAddress];
    return new Cluster(
      nodes.map(({ host, port }) => ({ host, port })),
      {
        lazyConnect: true,
        enableOfflineQueue: false,
        enableAutoPipelining: false,
        // Writes and reads go to the slot's master: a replica may lag behind a quota decision.
        scaleReads: 'master',
        // MOVED/ASK and a failover's brief CLUSTERDOWN are retried inside one command, whose
        // commandTimeout still bounds it; past that the caller gets upstream_unavailable.
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        retryDelayOnTryAgain: 100,
        slotsRefreshTimeout: options.connectTimeoutMs,
        clusterRetryStrategy: retryStrategy,
        redisOptions: { ...base, ...credentials(first), ...(first.tls ? { tls: {} } : {}) },
      },
    );
  }
  const sentinels = parseRedisNodes(topology.sentinels, 26379);
  const [first] = sentinels as [RedisNodeAddress];
  return new Redis({
    ...base,
    enableOfflineQueue: false,
    retryStrategy,
    sentinels: sentinels.map(({ host, port }) => ({ host, port })),
    name: topology.masterName,
    role: 'master',
    // One credential for sentinels and data nodes alike (see RedisTopology).
    ...credentials(first),
    ...(first.username ? { sentinelUsername: first.username } : {}),
    ...(first.password ? { sentinelPassword: first.password } : {}),
    ...(first.tls ? { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
    sentinelRetryStrategy: retryStrategy,
    // Subscribes to +switch-master so a failover reconnects at once rather than on the next error.
    failoverDetector: true,
  });
}

function credentials(node: RedisNodeAddress): Pick<RedisOptions, 'username' | 'password'> {
  return {
    ...(node.username ? { username: node.username } : {}),
    ...(node.password ? { password: node.password } : {}),
  };
}
