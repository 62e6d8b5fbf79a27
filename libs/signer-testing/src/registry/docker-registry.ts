import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../net/free-port';

/** Where Debian's `docker-registry` package installs the CNCF distribution registry. */
export const DOCKER_REGISTRY_BINARY = '/usr/bin/docker-registry';
const READY_ATTEMPTS = 100;
const READY_INTERVAL_MS = 100;

/** Registry token auth (`auth.token` of the registry config), served by a {@link RegistryTokenIssuer}. */
export interface RegistryTokenAuth {
  realm: string;
  service: string;
  issuer: string;
  /** PEM file with the certificate of the token signing key. */
  rootCertBundle: string;
}

export interface DockerRegistryOptions {
  auth?: RegistryTokenAuth;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The real CNCF distribution registry (Debian `docker-registry`, v2.8) on a free loopback port with
 * a throw-away storage directory. It has no Referrers API, so clients exercise the tag schema.
 */
export class DockerRegistry {
  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    readonly baseUrl: string,
    private readonly output: string[],
  ) {}

  static async start(options: DockerRegistryOptions = {}): Promise<DockerRegistry> {
    if (!existsSync(DOCKER_REGISTRY_BINARY)) {
      throw new Error(
        `${DOCKER_REGISTRY_BINARY} missing: run \`node -e "import('./tools/services.mjs').then(m => m.ensureDockerRegistry())"\` (npm test does)`,
      );
    }
    const dir = mkdtempSync(join(tmpdir(), 'docker-registry-'));
    const port = await freePort();
    const config = {
      version: 0.1,
      log: { level: 'error', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: join(dir, 'storage') }, delete: { enabled: true } },
      http: { addr: `127.0.0.1:${port}` },
      ...(options.auth
        ? {
            auth: {
              token: {
                realm: options.auth.realm,
                service: options.auth.service,
                issuer: options.auth.issuer,
                rootcertbundle: options.auth.rootCertBundle,
              },
            },
          }
        : {}),
    };
    writeFileSync(join(dir, 'config.yml'), stringify(config));
    const output: string[] = [];
    const child = spawn(DOCKER_REGISTRY_BINARY, ['serve', join(dir, 'config.yml')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => output.push(chunk.toString('utf8').slice(0, 2000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const registry = new DockerRegistry(child, dir, `http://127.0.0.1:${port}`, output);
    await registry.waitUntilReady();
    return registry;
  }

  /** The file the registry serves `digest` from: overwriting it makes a registry that lies. */
  blobDataPath(digest: string): string {
    const hex = digest.slice('sha256:'.length);
    return join(this.dir, 'storage/docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  }

  /** Replaces the stored bytes of `digest` behind the registry's back. */
  tamper(digest: string, bytes: Buffer): void {
    writeFileSync(this.blobDataPath(digest), bytes);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitUntilReady(): Promise<void> {
    for (let attempt = 0; attempt < READY_ATTEMPTS; attempt += 1) {
      if (this.child.exitCode !== null) break;
      try {
        const response = await fetch(`${this.baseUrl}/v2/`);
        await response.body?.cancel();
        if (response.status === 200 || response.status === 401) return;
      } catch {
        // not listening yet
      }
      await sleep(READY_INTERVAL_MS);
    }
    await this.stop();
    throw new Error(`docker-registry did not start: ${this.output.join('').slice(0, 2000)}`);
  }
}
