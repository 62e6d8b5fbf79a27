import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { listensOn } from '@signer/testing';
import type { RefusalEvidence } from './authority-expect';

const ROOT = join(__dirname, '../../..');
const READY_ATTEMPTS = 150;
const READY_INTERVAL_MS = 200;

/**
 * Bundles the service exactly as tools/build.mjs does, into a private folder under tmp/ (npm
 * packages resolve from the workspace; the shared dist/ is left to the build target running
 * alongside the tests).
 */
export async function buildService(): Promise<{ main: string; dir: string }> {
  const dir = join(ROOT, 'tmp', `authority-replicas-${randomUUID()}`);
  mkdirSync(dir, { recursive: true });
  const main = join(dir, 'main.js');
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['apps/signer-api/src/main.ts'],
    outfile: main,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    logLevel: 'warning',
    tsconfig: join(ROOT, 'apps/signer-api/tsconfig.json'),
  });
  return { main, dir };
}

/** One Signer process (the built service), its log lines and its own audit file. */
export class Replica implements RefusalEvidence {
  readonly logs = { lines: [] as string[] };
  private exited?: Promise<void>;

  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly auditFile: string,
  ) {}

  /** Starts `main` on `port` with the config file plus `SIGNER__…` overrides; resolves once ready. */
  static async start(options: {
    main: string;
    configPath: string;
    port: number;
    auditFile: string;
    env: Record<string, string>;
  }): Promise<Replica> {
    const child = spawn(process.execPath, ['--enable-source-maps', options.main], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env['PATH'] ?? '',
        SIGNER_CONFIG: options.configPath,
        SIGNER__SERVER__PORT: String(options.port),
        SIGNER__AUDIT__FILEPATH: options.auditFile,
        ...options.env,
      },
    });
    const replica = new Replica(`http://127.0.0.1:${options.port}`, child, options.auditFile);
    replica.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let pending = '';
    const collect = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      replica.logs.lines.push(...lines.filter(Boolean));
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    await replica.waitReady();
    return replica;
  }

  auditLines(): Array<Record<string, unknown>> {
    return readFileSync(this.auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Log lines reach us through a pipe, shortly after the response: wait (bounded) for one naming `text`. */
  async logged(text: string): Promise<void> {
    for (let attempt = 0; attempt < READY_ATTEMPTS; attempt += 1) {
      if (this.logs.lines.some((line) => line.includes(text))) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }

  private async waitReady(): Promise<void> {
    for (let attempt = 0; attempt < READY_ATTEMPTS; attempt += 1) {
      if (this.child.exitCode !== null) break;
      try {
        // Its own process must hold the port: a parallel test's server could answer on it otherwise.
        const pid = this.child.pid;
        const port = Number(new URL(this.url).port);
        if (pid !== undefined && listensOn(pid, port) && (await fetch(`${this.url}/readyz`)).status === 200)
          return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, READY_INTERVAL_MS));
    }
    await this.stop();
    throw new Error(`replica ${this.url} did not become ready:\n${this.logs.lines.slice(-20).join('\n')}`);
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
