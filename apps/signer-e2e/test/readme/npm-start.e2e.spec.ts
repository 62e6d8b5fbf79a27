import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findWorkspaceRoot, freePort } from '@signer/testing';
import { alive } from './process-alive';
import { copyWorkspace, freshShellEnv } from './workspace-copy';

// Copies the tree and starts the real service through npm, builds included.
jest.setTimeout(120_000);

interface Record {
  pid: number;
  url: string;
}

/** Polls `probe` until it returns a value (a service starting, a process exiting), or throws after 60 s. */
async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('npm start', () => {
  let clone: ReturnType<typeof copyWorkspace>;
  const started: number[] = [];
  const recordFile = () => join(clone.dir, '.signer-dev/service.json');
  const npm = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync('npm', args, { cwd: clone.dir, env: freshShellEnv(env), encoding: 'utf8', timeout: 90_000 });

  beforeAll(() => {
    clone = copyWorkspace(findWorkspaceRoot());
  });

  afterAll(() => {
    // A failed step must not leave a service running.
    for (const pid of started.filter(alive)) process.kill(pid, 'SIGKILL');
    clone.remove();
  });

  describe('when given an argument it does not know', () => {
    it('refuses with exit 2, naming it', () => {
      const run = npm(['start', '--', '--confg', 'x.yaml']);

      expect([run.status, run.stderr]).toEqual([2, expect.stringContaining('unknown argument --confg')]);
    });
  });

  describe('when --config names a file', () => {
    it('runs the service on that file (which refuses a missing one, exit 78, naming it)', () => {
      const run = npm(['start', '--', '--config', 'no-such.yaml']);

      expect([run.status, run.stderr]).toEqual([
        78,
        expect.stringContaining(`cannot read configuration ${join(clone.dir, 'no-such.yaml')}`),
      ]);
      expect(existsSync(join(clone.dir, '.signer-dev'))).toBe(false);
    });
  });

  describe.each(['SIGTERM', 'SIGINT'] as const)(
    'when the pid of a foreground npm start gets %s',
    (signal) => {
      let record: Record;
      let npmStart: ChildProcess;

      beforeAll(async () => {
        const port = await freePort();
        npmStart = spawn('npm', ['start'], {
          cwd: clone.dir,
          env: freshShellEnv({ SIGNER__SERVER__PORT: String(port) }),
          stdio: 'ignore',
        });
        record = await until('the service record', () =>
          existsSync(recordFile()) ? (JSON.parse(readFileSync(recordFile(), 'utf8')) as Record) : undefined,
        );
        started.push(record.pid);
        process.kill(npmStart.pid as number, signal);
      });

      it('stops the service it started, and exits', async () => {
        await until('the service and npm to exit', () =>
          alive(record.pid) || npmStart.exitCode === null ? undefined : true,
        );

        expect([alive(record.pid), existsSync(recordFile()), npmStart.exitCode]).toEqual([false, false, 0]);
      });
    },
  );

  describe('when a service started by npm start already runs', () => {
    it('refuses a second start, naming the running one', async () => {
      const first = npm(['start', '--', '--detach'], { SIGNER__SERVER__PORT: String(await freePort()) });
      const record = JSON.parse(readFileSync(recordFile(), 'utf8')) as Record;
      started.push(record.pid);

      const second = npm(['start']);
      const stop = npm(['stop']);

      expect([first.status, second.status, stop.status]).toEqual([0, 1, 0]);
      expect(second.stderr).toContain(`already runs (pid ${record.pid}, ${record.url})`);
    });
  });
});
