import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { reachable } from '../net/reachable';
import { killWithHarness } from '../process/kill-with-harness';

export const REDIS_CLI_BINARY = '/usr/bin/redis-cli';
const SERVER_BINARY = '/usr/bin/redis-server';
const READY_TIMEOUT_MS = 10_000;
const run = promisify(execFile);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One redis-server (or, with `--sentinel`, a sentinel: the same binary, so the `redis-sentinel`
 * Debian package is not needed) of a harness's own on a loopback port, killed with the harness.
 */
export class RedisServerProcess {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  static async start(port: number, args: string[]): Promise<RedisServerProcess> {
    if (!existsSync(SERVER_BINARY)) {
      throw new Error(`${SERVER_BINARY} missing: install the Debian package redis-server`);
    }
    const child = spawn(SERVER_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    killWithHarness(child);
    const errors: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => errors.push(chunk.toString('utf8').slice(0, 500)));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (child.exitCode === null && !(await reachable(port)) && Date.now() < deadline) await sleep(20);
    if (child.exitCode !== null || !(await reachable(port))) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on ${port}: ${errors.join('')}`);
    }
    return new RedisServerProcess(port, child);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Kills the server without warning (SIGKILL), as a crash or an OOM kill would. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** Runs `redis-cli -p <port> <args…>` and returns its output (raw, no type hints). */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run(REDIS_CLI_BINARY, ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 10_000,
  });
  return stdout;
}

/** Polls `check` every 100 ms until it returns a value other than undefined, or fails with `what`. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
    }
    await sleep(100);
  }
}
