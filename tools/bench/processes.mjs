// Child-process plumbing for the bench: optional CPU pinning, bounded waits, IPC jobs. Every wait
// has a deadline; every child started here is stopped by its pid, also when the bench dies.
import { spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';

const TASKSET = '/usr/bin/taskset';
/** Children still running: if the bench exits early, they are killed with it. */
const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));

function track(child) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Pinning needs taskset and two cores: the service side gets one core, the load generator the other. */
export function pinningAvailable() {
  return availableParallelism() >= 2 && existsSync(TASKSET);
}

function command(cpu, args) {
  return cpu === undefined
    ? [process.execPath, args]
    : [TASKSET, ['-c', String(cpu), process.execPath, ...args]];
}

/** Starts a long-running node process on `cpu` (or anywhere); its output goes to `logFile`. */
export function startNode({ args, env, cpu, logFile }) {
  const out = openSync(logFile, 'a');
  const [file, argv] = command(cpu, args);
  return track(spawn(file, argv, { env, stdio: ['ignore', out, out] }));
}

/**
 * Runs a node script that takes one job over IPC and answers `{type: 'result' | 'error'}`; it
 * may announce `{type: 'started'}` when its timed window opens. Killed after `timeoutMs`.
 */
export function runJob({ script, job, cpu, timeoutMs, onStarted }) {
  const [file, argv] = command(cpu, [script]);
  const child = track(spawn(file, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (message) => {
      try {
        if (message.type === 'started') onStarted?.();
      } catch (error) {
        child.kill('SIGKILL');
        reject(error);
      }
      if (message.type === 'result') resolve(message.result);
      if (message.type === 'error') reject(new Error(`${script} failed: ${message.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code ?? signal}) without a result`));
    });
    child.send(job);
  });
}

/**
 * Starts a long-running node script that answers IPC requests `{id, ...}` with `{id, result}` or
 * `{id, error}`; `request(message)` sends one and waits for its answer, at most `timeoutMs`.
 */
export function startIpcNode({ args, cpu, logFile }) {
  const out = openSync(logFile, 'a');
  const [file, argv] = command(cpu, args);
  const child = track(spawn(file, argv, { stdio: ['ignore', out, out, 'ipc'] }));
  const pending = new Map();
  let nextId = 0;
  child.on('message', ({ id, result, error }) => {
    const waiter = pending.get(id);
    pending.delete(id);
    if (error === undefined) waiter?.resolve(result);
    else waiter?.reject(new Error(error));
  });
  child.on('exit', (code, signal) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${args[0]} exited (${code ?? signal})`));
    pending.clear();
  });
  return {
    child,
    request(message, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${args[0]}: no answer to ${message.type} within ${timeoutMs} ms`));
        }, timeoutMs);
        const settle = (fn) => (value) => {
          clearTimeout(timer);
          fn(value);
        };
        pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
        child.send({ ...message, id });
      });
    },
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
export function stopProcess(child, graceMs = 10_000) {
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

/** A port the kernel just handed out on 127.0.0.1 (closed again before use). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns true, the child dies, or the deadline passes. */
export async function waitUntil(what, check, { timeoutMs, child }) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what}: process exited with ${child.exitCode}`);
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not ready within ${timeoutMs} ms`);
}
