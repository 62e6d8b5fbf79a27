import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { freePort, killWithHarness, listensOn } from '@signer/testing';
import { sleep, waitFor } from './wait';

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;

/** Memory and descriptors of one process, from /proc. */
export interface ProcessFigures {
  pid: number;
  rssMb: number;
  fds: number;
}

export function processFigures(pid: number): ProcessFigures {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
  return { pid, rssMb: Math.round((rssKb / 1024) * 10) / 10, fds: readdirSync(`/proc/${pid}/fd`).length };
}

/**
 * One Signer process: the real service bundle on a fixed loopback port, so a replica killed with
 * SIGKILL comes back at the same address. Its JSON logs are drained (a full pipe would block it);
 * the last lines of stderr are kept for start-up failures.
 */
export class SignerReplica {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly stderr: string[] = [];
  /** The admin listener's port (readiness per dependency), chosen at the first start and kept. */
  private adminPort: number | undefined;
  starts = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly bundle: string,
    private readonly env: Record<string, string>,
    private readonly cwd: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The operator-only listener: `GET /readyz` there names each dependency's state. */
  get adminUrl(): string | undefined {
    return this.adminPort === undefined ? undefined : `http://127.0.0.1:${this.adminPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits until `/readyz` answers 200 (every dependency reachable). */
  async start(): Promise<void> {
    this.adminPort ??= await freePort();
    const child = spawn(process.execPath, ['--enable-source-maps', this.bundle], {
      cwd: this.cwd,
      env: {
        PATH: process.env['PATH'] ?? '',
        ...this.env,
        SIGNER__SERVER__PORT: String(this.port),
        SIGNER__SERVER__PUBLICBASEURL: this.url,
        SIGNER__SERVER__ADMINPORT: String(this.adminPort),
        // Faults last a few seconds and readiness is sampled halfway: a 1 s cache keeps it current.
        SIGNER__SERVER__READINESSCACHEMS: '1000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killWithHarness(child);
    this.child = child;
    this.starts += 1;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdout?.resume();
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr.push(chunk.toString('utf8').slice(0, 2000));
      this.stderr.splice(0, Math.max(0, this.stderr.length - 20));
    });
    const ready = await waitFor(
      async () => {
        if (child.exitCode !== null) return true;
        if (child.pid === undefined || !listensOn(child.pid, this.port)) return false;
        try {
          return (await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(3000) })).status === 200;
        } catch {
          return false;
        }
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 100 },
    );
    if (!ready || child.exitCode !== null) {
      await this.kill();
      throw new Error(`replica ${this.name} did not become ready: ${this.stderr.join('').slice(-2000)}`);
    }
  }

  /** SIGKILL: no shutdown hook runs, in-flight requests die with their connections. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** Freezes or thaws the process (SIGSTOP/SIGCONT), to catch it holding a quota slot. */
  pause(paused: boolean): void {
    if (this.running) this.child?.kill(paused ? 'SIGSTOP' : 'SIGCONT');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGCONT');
    this.child?.kill('SIGTERM');
    const done = await Promise.race([this.exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
    if (!done) await this.kill();
  }

  figures(): ProcessFigures {
    if (!this.running || this.pid === undefined) {
      const exit = this.child ? `exit ${this.child.exitCode ?? this.child.signalCode}` : 'never started';
      throw new Error(`replica ${this.name} is not running (${exit}): ${this.stderr.join('').slice(-2000)}`);
    }
    return processFigures(this.pid);
  }
}
