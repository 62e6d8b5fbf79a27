import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
// npm start builds and generates a profile, and every `npm run cli` step builds the CLI.
jest.setTimeout(180_000);

interface Step {
  command: string;
  expected: string[];
}

/** The `$ command` / output pairs of the console blocks in docs/api.md's walk-through section. */
function walkthroughSteps(markdown: string): Step[] {
  const section = markdown.split('\n## Walk-through\n')[1].split('\n## ')[0];
  const steps: Step[] = [];
  for (const block of section.matchAll(/```console\n([\s\S]*?)```/g)) {
    for (const line of block[1].split('\n').filter((l) => l.length > 0)) {
      if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: [] });
      else steps[steps.length - 1].expected.push(line);
    }
  }
  return steps;
}

/** `…` in the docs stands for any run-specific text. */
function matches(expected: string, actual: string): boolean {
  const pattern = expected
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.+');
  return new RegExp(`^${pattern}$`).test(actual);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitReady(url: string): Promise<void> {
  for (let attempt = 0; attempt < 240; attempt += 1) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('the service did not become ready');
}

describe('docs/api.md walk-through', () => {
  const steps = walkthroughSteps(readFileSync(join(root, 'docs/api.md'), 'utf8'));
  const devDir = mkdtempSync(join(tmpdir(), 'wt-profile-'));
  const workDir = mkdtempSync(join(tmpdir(), 'wt-work-'));
  let url = '';
  let env: NodeJS.ProcessEnv = {};
  let service: ChildProcess | undefined;

  // The commands run verbatim but for three values: the URL, the profile folder and the work folder.
  // One pass, so a substituted path is never substituted again.
  const localise = (text: string) =>
    text.replace(/http:\/\/127\.0\.0\.1:8080|\.signer-dev|\/tmp\/signer-walkthrough/g, (token) =>
      token === '.signer-dev' ? devDir : token.startsWith('http') ? url : workDir,
    );

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = {
      ...process.env,
      SIGNER_DEV_DIR: devDir,
      SIGNER__SERVER__PORT: String(port),
      SIGNER_PROFILE: devDir,
      SIGNER_LOG_LEVEL: 'warn',
    };
    delete env['SIGNER_CONFIG'];
  });

  afterAll(() => {
    if (service?.pid) process.kill(-service.pid, 'SIGTERM');
    // A detached service (`npm start -- --detach`) left behind by a failed step.
    spawnSync('npm', ['run', '-s', 'stop'], { cwd: root, env });
    rmSync(devDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('has steps to run', () => {
    expect(steps.map((s) => s.command.split(' ')[0])).toEqual(
      expect.arrayContaining(['npm', 'curl', 'mkdir']),
    );
    expect(steps[0].command).toBe('npm run -s start -- --detach');
  });

  it('prints exactly what the docs say, command by command', async () => {
    for (const step of steps) {
      const command = localise(step.command);
      if (command.endsWith('&')) {
        service = spawn('bash', ['-c', command.slice(0, -1)], {
          cwd: root,
          env,
          detached: true,
          stdio: 'ignore',
        });
        await waitReady(url);
        continue;
      }
      const run = spawnSync('bash', ['-o', 'pipefail', '-c', command], {
        cwd: root,
        env,
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect({
        command: step.command,
        status: run.status,
        stderr: run.status === 0 ? '' : run.stderr,
      }).toEqual({
        command: step.command,
        status: 0,
        stderr: '',
      });
      const actual = run.stdout.split('\n').filter((line) => line.length > 0);
      expect(actual).toHaveLength(step.expected.length);
      step.expected.forEach((line, index) => {
        expect({
          command: step.command,
          line: actual[index],
          ok: matches(localise(line), actual[index]),
        }).toEqual({
          command: step.command,
          line: actual[index],
          ok: true,
        });
      });
    }
  });
});
