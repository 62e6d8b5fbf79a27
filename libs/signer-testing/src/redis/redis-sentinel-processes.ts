import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../net/free-port';
import { RedisServerProcess, redisCli, waitFor } from './redis-server-process';

export const TEST_SENTINEL_MASTER_NAME = 'signer-test';
/** Short, so a killed master is replaced within a few seconds (production: tens of seconds). */
export const TEST_SENTINEL_DOWN_AFTER_MS = 1000;
export const TEST_SENTINEL_FAILOVER_TIMEOUT_MS = 3000;
const SENTINELS = 3;
const QUORUM = 2;

export interface RedisSentinelOptions {
  /** Replicas of the master (1 or 2). */
  replicas?: number;
}

/**
 * A replicated Redis watched by 3 sentinels (quorum 2), all of a test's own on loopback ports: a
 * master, 1–2 replicas, and sentinels run as `redis-server <conf> --sentinel` (the same binary; the
 * `redis-sentinel` package is not needed). A test can kill the master and wait for the promotion.
 */
export class RedisSentinelProcesses {
  private readonly servers = new Map<number, RedisServerProcess>();
  private readonly sentinelNodes: RedisServerProcess[] = [];
  private masterPort = 0;

  private constructor(private readonly dir: string) {}

  static async start(options: RedisSentinelOptions = {}): Promise<RedisSentinelProcesses> {
    const set = new RedisSentinelProcesses(mkdtempSync(join(tmpdir(), 'redis-sentinel-')));
    try {
      set.masterPort = await freePort();
      await set.launchServer(set.masterPort, []);
      for (let i = 0; i < (options.replicas ?? 1); i++) {
        await set.launchServer(await freePort(), ['--replicaof', '127.0.0.1', String(set.masterPort)]);
      }
      for (let i = 0; i < SENTINELS; i++) await set.launchSentinel(await freePort());
      await set.waitUntilReady(options.replicas ?? 1);
    } catch (error) {
      await set.stop();
      throw error;
    }
    return set;
  }

  get masterName(): string {
    return TEST_SENTINEL_MASTER_NAME;
  }

  /** Sentinel URLs, as `quotas.redis.nodes` takes them in sentinel mode. */
  get sentinels(): string[] {
    return this.sentinelNodes.map((node) => `redis://127.0.0.1:${node.port}`);
  }

  /** The master's port as the sentinels name it now. */
  async currentMaster(): Promise<number> {
    const [first] = this.sentinelNodes.filter((node) => node.alive);
    if (!first) throw new Error('no sentinel is running');
    const reply = await redisCli(first.port, 'sentinel', 'get-master-addr-by-name', this.masterName);
    return Number(reply.trim().split('\n')[1]);
  }

  /** Kills the current master without warning (SIGKILL); returns its port. */
  async killMaster(): Promise<number> {
    const port = await this.currentMaster();
    await this.servers.get(port)?.kill();
    return port;
  }

  /** Waits until the sentinels name a master other than `formerPort` and it accepts writes. */
  async waitForFailover(formerPort: number, timeoutMs = 20_000): Promise<number> {
    return waitFor('the sentinels to promote a replica', timeoutMs, async () => {
      const port = await this.currentMaster();
      if (port === formerPort) return undefined;
      const role = await redisCli(port, 'role');
      return role.startsWith('master') ? port : undefined;
    });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sentinelNodes, ...this.servers.values()].map((node) => node.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launchServer(port: number, extra: string[]): Promise<void> {
    const server = await RedisServerProcess.start(port, [
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ...['--dir', this.dir, '--dbfilename', `dump-${port}.rdb`, ...extra],
    ]);
    this.servers.set(port, server);
  }

  private async launchSentinel(port: number): Promise<void> {
    // A sentinel rewrites its config file (what it learns), so each has its own.
    const conf = join(this.dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${this.dir}`,
        `sentinel monitor ${this.masterName} 127.0.0.1 ${this.masterPort} ${QUORUM}`,
        `sentinel down-after-milliseconds ${this.masterName} ${TEST_SENTINEL_DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${this.masterName} ${TEST_SENTINEL_FAILOVER_TIMEOUT_MS}`,
        `sentinel parallel-syncs ${this.masterName} 1`,
        '',
      ].join('\n'),
    );
    this.sentinelNodes.push(await RedisServerProcess.start(port, [conf, '--sentinel']));
  }

  /** Every replica is in sync and every sentinel knows the replicas and the other sentinels. */
  private async waitUntilReady(replicas: number): Promise<void> {
    await waitFor('replicas in sync and sentinels acquainted', 20_000, async () => {
      const info = await redisCli(this.masterPort, 'info', 'replication');
      if ((info.match(/state=online/g) ?? []).length < replicas) return undefined;
      for (const sentinel of this.sentinelNodes) {
        const master = await redisCli(sentinel.port, 'sentinel', 'master', this.masterName);
        const fields = master.trim().split('\n');
        const value = (name: string) => fields[fields.indexOf(name) + 1];
        if (Number(value('num-slaves')) < replicas) return undefined;
        if (Number(value('num-other-sentinels')) < SENTINELS - 1) return undefined;
      }
      return true;
    });
  }
}
