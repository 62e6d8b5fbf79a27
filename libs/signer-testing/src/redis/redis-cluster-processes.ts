import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../net/free-port';
import { REDIS_CLI_BINARY, RedisServerProcess, redisCli, waitFor } from './redis-server-process';

const run = promisify(execFile);
const MASTERS = 3;
/** Short, so a killed master's replica is promoted within a few seconds (production: 15 s). */
export const TEST_CLUSTER_NODE_TIMEOUT_MS = 1000;

export interface RedisClusterOptions {
  /** One replica per master (`--cluster-replicas 1`), so a master can fail over. */
  replicas?: boolean;
}

/** One node of `CLUSTER NODES`: its port, role, master (for a replica) and slot ranges. */
export interface ClusterNodeView {
  id: string;
  port: number;
  master: boolean;
  failed: boolean;
  masterId: string | undefined;
  slots: Array<[number, number]>;
}

/**
 * A Redis Cluster of a test's own: 3 masters (and optionally 3 replicas) as redis-server processes
 * on free loopback ports, joined with `redis-cli --cluster create`, no persistence. A test can kill
 * the master that owns a key's slot and wait until its replica took over.
 */
export class RedisClusterProcesses {
  private readonly nodes = new Map<number, RedisServerProcess>();

  private constructor(
    private readonly dir: string,
    private readonly replicas: boolean,
  ) {}

  static async start(options: RedisClusterOptions = {}): Promise<RedisClusterProcesses> {
    const cluster = new RedisClusterProcesses(
      mkdtempSync(join(tmpdir(), 'redis-cluster-')),
      options.replicas ?? false,
    );
    try {
      const count = options.replicas ? MASTERS * 2 : MASTERS;
      for (let i = 0; i < count; i++) await cluster.launch(await freePort());
      const addresses = [...cluster.nodes.keys()].map((port) => `127.0.0.1:${port}`);
      await run(
        REDIS_CLI_BINARY,
        [
          ...['--cluster', 'create', ...addresses, '--cluster-yes'],
          ...(options.replicas ? ['--cluster-replicas', '1'] : []),
        ],
        { timeout: 30_000 },
      );
      await cluster.waitUntilHealthy();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Seed node URLs (every node), as `quotas.redis.nodes` takes them. */
  get seeds(): string[] {
    return [...this.nodes.keys()].map((port) => `redis://127.0.0.1:${port}`);
  }

  get ports(): number[] {
    return [...this.nodes.keys()];
  }

  /** The cluster as a live node sees it. */
  async view(): Promise<ClusterNodeView[]> {
    return parseClusterNodes(await redisCli(this.livePort(), 'cluster', 'nodes'));
  }

  async keySlot(key: string): Promise<number> {
    return Number((await redisCli(this.livePort(), 'cluster', 'keyslot', key)).trim());
  }

  private livePort(): number {
    const live = [...this.nodes.values()].find((node) => node.alive);
    if (!live) throw new Error('no cluster node is running');
    return live.port;
  }

  /** The port of the master that serves `key`'s slot now. */
  async slotOwnerOf(key: string): Promise<number> {
    const slot = await this.keySlot(key);
    const owner = (await this.view()).find(
      (node) => node.master && !node.failed && node.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    if (!owner) throw new Error(`no master serves slot ${slot}`);
    return owner.port;
  }

  /** Kills a master without warning (SIGKILL); its replica takes over after the node timeout. */
  async killMaster(port: number): Promise<void> {
    const node = this.nodes.get(port);
    if (!node) throw new Error(`no cluster node on port ${port}`);
    await node.kill();
  }

  /**
   * Starts a killed node again on its port with its nodes.conf: it rejoins the cluster as a replica
   * of the master that replaced it (as an operator's restart would). Waits until it is in sync.
   */
  async restart(port: number): Promise<void> {
    const node = this.nodes.get(port);
    if (!node) throw new Error(`no cluster node on port ${port}`);
    if (node.alive) throw new Error(`cluster node ${port} is still running`);
    await this.launch(port);
    await waitFor(`node ${port} to rejoin as a replica`, 20_000, async () => {
      const self = (await this.view()).find((view) => view.port === port);
      return self && !self.master && !self.failed ? true : undefined;
    });
    await this.waitUntilHealthy();
  }

  /**
   * Waits until `key`'s slot is served by a master other than `formerPort` and every running node
   * reports `cluster_state:ok`; returns the new master's port.
   */
  async waitForFailover(key: string, formerPort: number, timeoutMs = 15_000): Promise<number> {
    const port = await waitFor(`a new master for ${key}`, timeoutMs, async () => {
      const owner = await this.slotOwnerOf(key);
      return owner !== formerPort ? owner : undefined;
    });
    await this.waitUntilHealthy(timeoutMs);
    return port;
  }

  /** A graceful manual failover: the master's replica takes over with no write lost. */
  async failover(masterPort: number): Promise<number> {
    const nodes = await this.view();
    const master = nodes.find((node) => node.port === masterPort);
    const replica = nodes.find((node) => !node.master && node.masterId === master?.id && !node.failed);
    if (!replica) throw new Error(`master ${masterPort} has no replica to fail over to`);
    await redisCli(replica.port, 'cluster', 'failover');
    await waitFor(`replica ${replica.port} to become master`, 15_000, async () => {
      const self = (await this.view()).find((node) => node.port === replica.port);
      return self?.master ? true : undefined;
    });
    await this.waitUntilHealthy();
    return replica.port;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((node) => node.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(port: number): Promise<void> {
    const node = await RedisServerProcess.start(port, [
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ...['--dir', this.dir, '--cluster-enabled', 'yes'],
      ...['--cluster-config-file', join(this.dir, `nodes-${port}.conf`)],
      ...['--cluster-node-timeout', String(TEST_CLUSTER_NODE_TIMEOUT_MS)],
      // A replica whose link broke a moment ago may still be promoted (the default may refuse).
      ...['--cluster-replica-validity-factor', '0'],
      // The other masters keep serving their slots while one fails over (see the notes).
      ...['--cluster-require-full-coverage', 'no'],
    ]);
    this.nodes.set(port, node);
  }

  /**
   * Every running node says `cluster_state:ok` and knows all 16384 slots; with replicas, every
   * master that has one also has it in sync (`state=online`), so `WAIT 1` can succeed.
   */
  private async waitUntilHealthy(timeoutMs = 20_000): Promise<void> {
    await waitFor('cluster_state:ok on every node', timeoutMs, async () => {
      for (const node of this.nodes.values()) {
        if (!node.alive) continue;
        const info = await redisCli(node.port, 'cluster', 'info');
        if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return undefined;
      }
      if (!this.replicas) return true;
      const view = await this.view();
      for (const master of view.filter((node) => node.master && !node.failed)) {
        const replicas = view.filter((node) => node.masterId === master.id && !node.failed);
        if (replicas.length === 0) continue;
        const replication = await redisCli(master.port, 'info', 'replication');
        if (!/state=online/.test(replication)) return undefined;
      }
      return true;
    });
  }
}

/** Parses `CLUSTER NODES` lines: `<id> <ip:port@cport> <flags> <master|-> … <slots…>`. */
export function parseClusterNodes(text: string): ClusterNodeView[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const [id = '', address = '', flags = '', masterId = '-', , , , , ...slots] = line.trim().split(' ');
      const flagSet = new Set(flags.split(','));
      return {
        id,
        port: Number(address.split('@')[0]?.split(':').pop()),
        master: flagSet.has('master'),
        failed: flagSet.has('fail') || flagSet.has('fail?'),
        masterId: masterId === '-' ? undefined : masterId,
        slots: slots
          .filter((range) => !range.startsWith('['))
          .map((range) => {
            const [from, to = from] = range.split('-');
            return [Number(from), Number(to)] as [number, number];
          }),
      };
    });
}
