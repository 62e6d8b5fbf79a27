import { readdirSync, readFileSync } from 'node:fs';
import { freePort, SignerProcess } from '@signer/testing';

const START_TIMEOUT_MS = 60_000;
const LAUNCH_ATTEMPTS = 3;

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
 * One Signer process of the soak (the shared launcher, `SignerProcess`): on a fixed loopback
 * port, so a replica killed with SIGKILL comes back at the same address, with an admin listener
 * (readiness per dependency) and its JSON access log drained (a full pipe would block it).
 */
export class SignerReplica extends SignerProcess {
  private constructor(
    readonly name: string,
    port: number,
    private readonly adminPort: number,
    bundle: string,
    env: Record<string, string>,
    cwd: string,
  ) {
    super({
      bundle,
      port,
      cwd,
      stdout: 'drain',
      startTimeoutMs: START_TIMEOUT_MS,
      env: {
        ...env,
        SIGNER__SERVER__PUBLICBASEURL: `http://127.0.0.1:${port}`,
        SIGNER__SERVER__ADMINPORT: String(adminPort),
        // Faults last a few seconds and readiness is sampled halfway: a 1 s cache keeps it current.
        SIGNER__SERVER__READINESSCACHEMS: '1000',
      },
    });
  }

  /**
   * A started replica; its ports are chosen just before it starts and kept across restarts. A
   * port chosen free can be taken before the process binds it (a parallel test, or a port handed
   * out twice before anything bound it): then new ports are chosen, a few times at most.
   */
  static async launch(
    name: string,
    bundle: string,
    env: Record<string, string>,
    cwd: string,
  ): Promise<SignerReplica> {
    for (let attempt = 1; ; attempt += 1) {
      const replica = new SignerReplica(name, await freePort(), await freePort(), bundle, env, cwd);
      try {
        await replica.start();
        return replica;
      } catch (error) {
        if (attempt >= LAUNCH_ATTEMPTS || !String(error).includes('already in use')) throw error;
      }
    }
  }

  /** The operator-only listener: `GET /readyz` there names each dependency's state. */
  get adminUrl(): string {
    return `http://127.0.0.1:${this.adminPort}`;
  }

  figures(): ProcessFigures {
    if (!this.running || this.pid === undefined)
      throw new Error(`replica ${this.name} is not running (${this.state}):\n${this.tail()}`);
    return processFigures(this.pid);
  }
}
