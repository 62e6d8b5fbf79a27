import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killWithHarness } from './child-processes';
import { reachable, sleep, waitFor } from './wait';

export const REDIS_SERVER_BINARY = '/usr/bin/redis-server';

/**
 * A redis-server of the soak's own (no persistence) that it can crash and restart on the same
 * port; the shared Redis on 6379 is never touched. A restart loses everything it held: the DPoP
 * replay cache and nonces, idempotency records, cached decisions and quota counters/leases.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'soak-redis-'));
  restarts = 0;

  private constructor(readonly port: number) {}

  static async start(port: number): Promise<PrivateRedis> {
    const redis = new PrivateRedis(port);
    await redis.launch();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
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
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const child = spawn(REDIS_SERVER_BINARY, [...args, '--dir', this.dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    killWithHarness(child);
    const errors: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => errors.push(chunk.toString('utf8').slice(0, 500)));
    this.child = child;
    const up = await waitFor(async () => child.exitCode !== null || (await reachable(this.port)), {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    if (!up || child.exitCode !== null) {
      child.kill('SIGKILL');
      await sleep(200);
      throw new Error(`redis-server did not start on ${this.port}: ${errors.join('')}`);
    }
  }
}
