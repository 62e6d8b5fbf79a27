import { spawn, type ChildProcess } from 'node:child_process';
import { readJsonLines } from '../files/json-lines';
import { listensOn } from '../net/listens-on';
import { killWithHarness } from './kill-with-harness';
import { findWorkspaceRoot } from './workspace-root';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const POLL_MS = 100;
const LOG_LINE_BOUND = 10_000;

export interface SignerProcessOptions {
  /** The bundled service (`bundleSigner`). */
  bundle: string;
  /** The public listener's loopback port, kept across restarts: a killed process comes back there. */
  port: number;
  /** `SIGNER_CONFIG` and `SIGNER__…` settings: the process gets these and PATH, nothing else. */
  env: Record<string, string>;
  /** Its own audit trail (`SIGNER__AUDIT__FILEPATH`), read back by `auditLines()`. */
  auditFile?: string;
  /** Polled until it answers 200: `/readyz` (every dependency reachable) unless said otherwise. */
  readyPath?: string;
  startTimeoutMs?: number;
  /** `drain` discards stdout (the access log at soak volume); `keep` collects it with stderr. */
  stdout?: 'keep' | 'drain';
  cwd?: string;
}

/**
 * The one launcher of a Signer process (the real service bundle) for tests, the soak and any
 * harness: it waits until the process itself listens and is ready, keeps its latest log lines,
 * and never outlives the harness.
 */
export class SignerProcess {
  /** The latest log lines (stderr, and stdout unless drained), at most `LOG_LINE_BOUND`. */
  readonly logs = { lines: [] as string[] };
  starts = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly options: SignerProcessOptions) {}

  /** Creates the process and waits until it is ready. */
  static async start(options: SignerProcessOptions): Promise<SignerProcess> {
    const started = new SignerProcess(options);
    await started.start();
    return started;
  }

  get port(): number {
    return this.options.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** How it ended (`exit 1`, `exit SIGKILL`), or `running` / `never started`. */
  get state(): string {
    if (!this.child) return 'never started';
    return this.running ? 'running' : `exit ${this.child.exitCode ?? this.child.signalCode}`;
  }

  async start(): Promise<void> {
    const { auditFile, port } = this.options;
    const child = spawn(process.execPath, ['--enable-source-maps', this.options.bundle], {
      cwd: this.options.cwd ?? findWorkspaceRoot(),
      env: {
        PATH: process.env['PATH'] ?? '',
        ...this.options.env,
        SIGNER__SERVER__PORT: String(port),
        ...(auditFile ? { SIGNER__AUDIT__FILEPATH: auditFile } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killWithHarness(child);
    this.child = child;
    this.starts += 1;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    if (this.options.stdout === 'drain') child.stdout?.resume();
    else this.collect(child.stdout);
    this.collect(child.stderr);
    if (await this.becameReady(child)) return;
    await this.kill();
    throw new Error(`signer on ${this.url} did not become ready (${this.state}):\n${this.tail()}`);
  }

  /** The last lines it wrote, for a failure message. */
  tail(lines = 20): string {
    return this.logs.lines.slice(-lines).join('\n');
  }

  /** Log lines reach us through a pipe, shortly after the response: waits (bounded) for one naming `text`. */
  async logged(text: string, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.logs.lines.some((line) => line.includes(text))) await pause(20);
  }

  auditLines(): Array<Record<string, unknown>> {
    if (!this.options.auditFile) throw new Error('this signer was started without an auditFile');
    return readJsonLines(this.options.auditFile);
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

  /** SIGTERM (a graceful drain), SIGKILL when it has not exited within 5 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGCONT');
    this.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private async becameReady(child: ChildProcess): Promise<boolean> {
    const deadline = Date.now() + (this.options.startTimeoutMs ?? START_TIMEOUT_MS);
    const readyUrl = `${this.url}${this.options.readyPath ?? '/readyz'}`;
    while (Date.now() < deadline && child.exitCode === null) {
      // Its own process must hold the port: a parallel test's server could answer on it otherwise.
      if (child.pid !== undefined && listensOn(child.pid, this.options.port)) {
        try {
          if ((await fetch(readyUrl, { signal: AbortSignal.timeout(3000) })).status === 200) return true;
        } catch {
          // not listening yet, or busy starting
        }
      }
      await pause(POLL_MS);
    }
    return false;
  }

  private collect(stream: NodeJS.ReadableStream | null): void {
    let pending = '';
    stream?.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      this.logs.lines.push(...lines.filter(Boolean));
      this.logs.lines.splice(0, Math.max(0, this.logs.lines.length - LOG_LINE_BOUND));
    });
  }
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
