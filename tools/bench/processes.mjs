// Child-process plumbing for the bench: optional CPU pinning, bounded waits, IPC jobs, CPU time
// read from /proc. Every wait has a deadline; every child started here is stopped by its pid.
import { spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';

const CLOCK_TICKS_PER_SECOND = 100;

/** Pinning needs taskset and two cores: the service side gets CPU 0, the load generator CPU 1. */
export function pinningAvailable() {
  return availableParallelism() >= 2 && existsSync('/usr/bin/taskset');
}

function command(cpu, args) {
  return cpu === undefined
    ? [process.execPath, args]
    : ['/usr/bin/taskset', ['-c', String(cpu), process.execPath, ...args]];
}

/** Starts a long-running node process; its output goes to `logFile`. */
export function startNode({ args, env, cpu, logFile }) {
  const out = openSync(logFile, 'a');
  const [file, argv] = command(cpu, args);
  return spawn(file, argv, { env, stdio: ['ignore', out, out] });
}

/** Runs a node script that takes one job over IPC and answers `{type:'result'|'error'}`. */
export function runJob({ script, job, cpu, timeoutMs, onStarted }) {
  const [file, argv] = command(cpu, [script]);
  const child = spawn(file, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (message) => {
      if (message.type === 'started') onStarted?.();
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

function statTimes(path) {
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    user: Number(fields[11]) / CLOCK_TICKS_PER_SECOND,
    system: Number(fields[12]) / CLOCK_TICKS_PER_SECOND,
  };
}

/** User + system CPU seconds a process (all its threads) has used so far. */
export function cpuSeconds(pid) {
  const { user, system } = statTimes(`/proc/${pid}/stat`);
  return user + system;
}

/**
 * CPU seconds of a process on its JS main thread and on its other threads (libuv's pool, where
 * WebCrypto and fs calls run, and V8's GC/compiler helpers; Node 20 does not name them), split
 * into user and system time.
 */
export function threadCpuSeconds(pid) {
  const byKind = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const kind = tid === String(pid) ? 'main' : 'others';
      const { user, system } = statTimes(`/proc/${pid}/task/${tid}/stat`);
      byKind[kind] ??= { user: 0, system: 0 };
      byKind[kind].user += user;
      byKind[kind].system += system;
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return byKind;
}

/** Busy CPU seconds per core (all processes) from /proc/stat; `all` is the sum over cores. */
export function coreBusySeconds() {
  const busy = {};
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d*) (.*)$/.exec(line);
    if (!match) continue;
    const [user, nice, system, , , irq, softirq, steal] = match[2].trim().split(/\s+/).map(Number);
    busy[match[1] === '' ? 'all' : match[1]] =
      (user + nice + system + irq + softirq + steal) / CLOCK_TICKS_PER_SECOND;
  }
  return busy;
}
