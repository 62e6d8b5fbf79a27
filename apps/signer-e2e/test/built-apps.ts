import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findWorkspaceRoot, killWithHarness, listensOn, SignerProcess } from '@signer/testing';

// The apps as shipped: their dist/ bundles, built by the `build` targets this project's `test`
// depends on. Never their sources: no project imports another app's sources.
const root = findWorkspaceRoot();
export const SERVICE_BUNDLE = join(root, 'dist/apps/signer-api/main.js');
export const CLI_BUNDLE = join(root, 'dist/apps/signer-cli/main.js');

function built(file: string): string {
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npx nx run-many -t build\` first`);
  return file;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `signer` CLI as a process, with only the environment given (plus PATH). */
export function signer(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<CliRun> {
  const child = spawn(process.execPath, [built(CLI_BUNDLE), ...args], {
    cwd: options.cwd,
    env: { PATH: process.env['PATH'] ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

/**
 * The built service on `configPath`, on a free loopback port, ready. A local stand-in for the
 * shared `startDistSigner` (libs/signer-testing) that starts the bundle as the container does.
 */
export function startBuiltSigner(configPath: string, port: number): Promise<SignerProcess> {
  return SignerProcess.start({ bundle: built(SERVICE_BUNDLE), port, env: serviceEnv(configPath) });
}

function serviceEnv(configPath: string): Record<string, string> {
  return { SIGNER_CONFIG: configPath, NODE_ENV: 'production', SIGNER_LOG_LEVEL: 'warn' };
}

/** A built service whose public listener is https, stopped by `stop()`. */
export interface TlsSigner {
  stop(): Promise<void>;
}

/**
 * The built service with TLS on `port`. SignerProcess polls readiness over plain http, so this
 * polls `/readyz` through `readyFetch` (trusting the test CA) instead; fold into SignerProcess
 * once it takes a readiness fetch.
 */
export async function startBuiltTlsSigner(
  configPath: string,
  port: number,
  readyFetch: typeof fetch,
): Promise<TlsSigner> {
  const child = spawn(process.execPath, [built(SERVICE_BUNDLE)], {
    env: { PATH: process.env['PATH'] ?? '', ...serviceEnv(configPath) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  killWithHarness(child);
  const errors: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => errors.push(chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  for (let attempt = 0; attempt < 300 && child.exitCode === null; attempt += 1) {
    try {
      const ready = child.pid !== undefined && listensOn(child.pid, port);
      if (ready && (await readyFetch(`https://127.0.0.1:${port}/readyz`)).status === 200) return { stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`the TLS signer did not become ready:\n${errors.join('').slice(-2000)}`);
}
