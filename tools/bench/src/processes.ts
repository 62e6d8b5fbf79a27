// Child-process plumbing for the bench: optional CPU pinning, bounded waits, IPC jobs. Every wait
// has a deadline; every child started here is stopped by its pid, also when the bench dies
// (killWithHarness). The children run this same bundle with a role (main.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { killWithHarness } from '@signer/testing';

const TASKSET = '/usr/bin/taskset';

/** The roles a bench child process runs (main.ts dispatches on them). */
export type Role = 'load' | 'crypto-floor' | 'noop-server' | 'fakes' | 'audit-writer';

/** Pinning needs taskset and two cores: the service side gets one core, the load generator the other. */
export function pinningAvailable(): boolean {
  return availableParallelism() >= 2 && existsSync(TASKSET);
}

function command(cpu: number | undefined, args: string[]): [string, string[]] {
  return cpu === undefined
    ? [process.execPath, args]
    : [TASKSET, ['-c', String(cpu), process.execPath, ...args]];
}

/** Node arguments that run this bundle in `role`. */
export const roleArgs = (role: Role, ...rest: string[]): string[] => [__filename, role, ...rest];

function tracked(child: ChildProcess): ChildProcess {
  killWithHarness(child);
  return child;
}

/** Starts a long-running node process on `cpu` (or anywhere); its output goes to `logFile`. */
export function startNode(options: {
  args: string[];
  env: NodeJS.ProcessEnv;
  cpu?: number;
  logFile: string;
}): ChildProcess {
  const out = openSync(options.logFile, 'a');
  const [file, argv] = command(options.cpu, options.args);
  return tracked(spawn(file, argv, { env: options.env, stdio: ['ignore', out, out] }));
}

type JobMessage<R> = { type: 'started' } | { type: 'result'; result: R } | { type: 'error'; message: string };

/**
 * Runs a child in `role` that takes one job over IPC and answers `{type: 'result' | 'error'}`
 * ({@link serveJob}); it may announce `{type: 'started'}` when its timed window opens. Killed after
 * `timeoutMs`.
 */
export function runJob<J, R>(options: {
  role: Role;
  job: J;
  cpu?: number;
  timeoutMs: number;
  onStarted?: () => void;
}): Promise<R> {
  const [file, argv] = command(options.cpu, roleArgs(options.role));
  const child = tracked(spawn(file, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.role} did not finish within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    child.on('message', (raw) => {
      const message = raw as JobMessage<R>;
      try {
        if (message.type === 'started') options.onStarted?.();
      } catch (error) {
        child.kill('SIGKILL');
        reject(error);
      }
      if (message.type === 'result') resolve(message.result);
      if (message.type === 'error') reject(new Error(`${options.role} failed: ${message.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${options.role} exited (${code ?? signal}) without a result`));
    });
    child.send(options.job as object);
  });
}

/** The child side of {@link runJob}: takes one job (sent by the bench itself), answers, exits. */
export function serveJob<J, R>(run: (job: J) => Promise<R>): void {
  process.once('message', (job) => {
    const answer = (message: JobMessage<R>, code: number) =>
      process.send?.(message, undefined, {}, () => process.exit(code));
    run(job as J).then(
      (result) => answer({ type: 'result', result }, 0),
      (error: unknown) => answer({ type: 'error', message: errorText(error) }, 1),
    );
  });
}

/** An error's stack (or text) for a log line or an IPC answer. */
export function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

export interface IpcNode {
  child: ChildProcess;
  request<R>(message: { type: string } & Record<string, unknown>, timeoutMs?: number): Promise<R>;
}

/**
 * Starts a long-running child in `role` that answers IPC requests `{id, ...}` with `{id, result}`
 * or `{id, error}`; `request(message)` sends one and waits for its answer, at most `timeoutMs`.
 */
export function startIpcNode(options: {
  role: Role;
  args: string[];
  cpu?: number;
  logFile: string;
}): IpcNode {
  const out = openSync(options.logFile, 'a');
  const [file, argv] = command(options.cpu, roleArgs(options.role, ...options.args));
  const child = tracked(spawn(file, argv, { stdio: ['ignore', out, out, 'ipc'] }));
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  child.on('message', (raw) => {
    const { id, result, error } = raw as { id: number; result?: unknown; error?: string };
    const waiter = pending.get(id);
    pending.delete(id);
    if (error === undefined) waiter?.resolve(result);
    else waiter?.reject(new Error(error));
  });
  child.on('exit', (code, signal) => {
    for (const waiter of pending.values())
      waiter.reject(new Error(`${options.role} exited (${code ?? signal})`));
    pending.clear();
  });
  return {
    child,
    request<R>(message: { type: string } & Record<string, unknown>, timeoutMs = 30_000): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${options.role}: no answer to ${message.type} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value as R);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        child.send({ ...message, id });
      });
    },
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
export function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

/** Polls `check` until it returns true, the child dies, or the deadline passes. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  { timeoutMs, child }: { timeoutMs: number; child?: ChildProcess },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what}: process exited with ${child.exitCode}`);
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not ready within ${timeoutMs} ms`);
}
