import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findWorkspaceRoot, freePort } from '@signer/testing';
import { alive } from './process-alive';
import { tryIt, type TryIt } from './readme-script';
import { copyWorkspace, freshShellEnv } from './workspace-copy';

// Copies the tree and starts the real service through npm, builds included.
jest.setTimeout(120_000);

/** Runs `lines` as one bash script in `cwd`, stopping at the first failing command. */
function bash(lines: string[], cwd: string) {
  return spawnSync('bash', ['-e', '-o', 'pipefail', '-c', lines.join('\n')], {
    cwd,
    env: freshShellEnv(),
    encoding: 'utf8',
    timeout: 90_000,
  });
}

describe('README "Try it"', () => {
  let clone: ReturnType<typeof copyWorkspace>;
  let url: string;
  let script: TryIt;
  let record: { pid: number; url: string; log: string } | undefined;
  const began = Date.now();

  beforeAll(async () => {
    clone = copyWorkspace(findWorkspaceRoot());
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    script = tryIt(readFileSync(join(clone.dir, 'README.md'), 'utf8'), port);
  });

  afterAll(() => {
    // A failed step must not leave the service running.
    if (record && alive(record.pid)) process.kill(record.pid, 'SIGTERM');
    clone.remove();
  });

  describe('when its block runs as written in a copy of the tree, the port moved', () => {
    it('starts, signs and verifies against the service on the moved port', () => {
      const run = bash(script.run, clone.dir);
      const recordFile = join(clone.dir, '.signer-dev/service.json');
      if (existsSync(recordFile)) record = JSON.parse(readFileSync(recordFile, 'utf8'));

      expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({
        status: 0,
        stderr: '',
      });
      expect(run.stderr).toContain(`Stella Ops Signer ready on ${url}`);
      expect(run.stdout).toMatch(/^verified: README\.md \(sha256:[0-9a-f]{64}\)$/m);
      expect(statSync('/tmp/bundle.json').mtimeMs).toBeGreaterThanOrEqual(began);
      expect(record?.url).toBe(url);
    });

    it('serves readiness, the log line and OpenAPI servers on that port', async () => {
      const ready = await fetch(`${url}/readyz`);
      const openapi = (await (await fetch(`${url}/api/v1/signer/openapi.json`)).json()) as {
        servers: Array<{ url: string }>;
      };
      const listening = readFileSync(record?.log ?? '', 'utf8')
        .split('\n')
        .filter((line) => line.includes('"signer listening"'))
        .map((line) => (JSON.parse(line) as { url: string }).url);

      expect([ready.status, openapi.servers.map((server) => server.url), listening]).toEqual([
        200,
        [url],
        [url],
      ]);
    });

    it('stops the service with its stop line', async () => {
      const stop = bash([script.stop], clone.dir);
      const refused = await fetch(`${url}/readyz`).then(
        () => false,
        () => true,
      );

      expect({ status: stop.status, stderr: stop.stderr }).toEqual({ status: 0, stderr: '' });
      expect([alive(record?.pid ?? 0), refused]).toEqual([false, true]);
      expect(existsSync(join(clone.dir, '.signer-dev/service.json'))).toBe(false);
    });
  });
});
