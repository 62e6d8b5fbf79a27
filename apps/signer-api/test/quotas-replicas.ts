import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { listensOn } from '@signer/testing';

export const WORKSPACE_ROOT = join(__dirname, '..', '..', '..');

/**
 * Bundles the real service exactly as `tools/build.mjs signer-api` does, but into a private
 * folder under tmp/ (node_modules still resolve from there), so a concurrent `nx build` writing
 * dist/ can never hand this test a half-written file.
 */
export async function bundleSignerApi(outDir: string): Promise<string> {
  const outfile = join(outDir, 'main.js');
  await build({
    absWorkingDir: WORKSPACE_ROOT,
    entryPoints: ['apps/signer-api/src/main.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
    tsconfig: join(WORKSPACE_ROOT, 'apps/signer-api/tsconfig.json'),
  });
  return outfile;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Replica {
  name: string;
  url: string;
  process: ChildProcess;
  /** The last lines the process wrote to stderr (start-up failures). */
  stderr: string[];
  exited: Promise<void>;
}

/** Starts `node <bundle>` with the given environment and waits for `/healthz`. */
export async function startReplica(
  name: string,
  bundle: string,
  port: number,
  env: Record<string, string>,
): Promise<Replica> {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [bundle], {
    cwd: WORKSPACE_ROOT,
    env: {
      ...process.env,
      ...env,
      SIGNER__SERVER__PORT: String(port),
      SIGNER__SERVER__PUBLICBASEURL: url,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  // Drain the JSON logs, or a full pipe would block the replica.
  child.stdout?.resume();
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(...chunk.toString('utf8').split('\n').slice(-20)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const replica: Replica = { name, url, process: child, stderr, exited };
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if (child.exitCode !== null) break;
    try {
      // Its own process must hold the port: a parallel test's server could answer on it otherwise.
      if (child.pid !== undefined && listensOn(child.pid, port) && (await fetch(`${url}/healthz`)).ok)
        return replica;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`replica ${name} did not start: ${stderr.join('\n')}`);
}

export async function stopReplica(replica: Replica): Promise<void> {
  if (replica.process.exitCode !== null || replica.process.signalCode !== null) return;
  replica.process.kill('SIGTERM');
  const timer = setTimeout(() => replica.process.kill('SIGKILL'), 5000);
  await replica.exited;
  clearTimeout(timer);
}
