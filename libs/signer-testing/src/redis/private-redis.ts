import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reachable } from '../net/reachable';
import { killWithHarness } from '../process/kill-with-harness';

export const REDIS_SERVER_BINARY = '/usr/bin/redis-server';
const TASKSET_BINARY = '/usr/bin/taskset';
const READY_TIMEOUT_MS = 10_000;
const READY_INTERVAL_MS = 20;

export interface PrivateRedisOptions {
  /** Pins the server to this CPU (`taskset -c`), e.g. the bench's load core. */
  cpu?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A redis-server of a harness's own (no persistence, loopback only) that it can crash and restart
 * on the same port; the shared Redis on 6379 is never touched. A restart loses everything it held:
 * the DPoP replay cache and nonces, idempotency records, cached decisions and quota counters/leases.
 * Used by the soak (faults) and the bench's redis variant (pinned to the load core).
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'private-redis-'));
  restarts = 0;

  private constructor(
    readonly port: number,
    private readonly options: PrivateRedisOptions,
  ) {}

  static async start(port: number, options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    if (!existsSync(REDIS_SERVER_BINARY)) {
      throw new Error(`${REDIS_SERVER_BINARY} missing: install the Debian package redis-server`);
    }
    const redis = new PrivateRedis(port, options);
    try {
      await redis.launch();
    } catch (error) {
      rmSync(redis.dir, { recursive: true, force: true });
      throw error;
    }
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The running server's pid (for CPU sampling), if it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Kills the server without warning (SIGKILL), as a crash or an OOM kill would. */
  async crash(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async restart(): Promise<void> {
    await this.crash();
    this.restarts += 1;
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.crash();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const args = [
      ...['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ...['--dir', this.dir],
    ];
    const { cpu } = this.options;
    // With taskset the child is taskset until it execs redis-server: the pid stays the same.
    const child =
      cpu === undefined
        ? spawn(REDIS_SERVER_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] })
        : spawn(TASKSET_BINARY, ['-c', String(cpu), REDIS_SERVER_BINARY, ...args], {
            stdio: ['ignore', 'ignore', 'pipe'],
          });
    killWithHarness(child);
    const errors: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => errors.push(chunk.toString('utf8').slice(0, 500)));
    this.child = child;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (child.exitCode === null && !(await reachable(this.port))) {
      if (Date.now() > deadline) break;
      await sleep(READY_INTERVAL_MS);
    }
    if (child.exitCode !== null || !(await reachable(this.port))) {
      child.kill('SIGKILL');
      this.child = undefined;
      await sleep(200);
      throw new Error(`redis-server did not start on ${this.port}: ${errors.join('')}`);
    }
  }
}
