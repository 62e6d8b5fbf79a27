import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEmbeddedProfile, type EmbeddedProfile } from '@signer/dev';
import { freePort, privateSignerBundle, SignerProcess, type PrivateBundle } from '@signer/testing';
import { parse, stringify } from 'yaml';

jest.setTimeout(60_000);

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

const STACK_FRAME = /^\s+at /m;
const EXIT_CONFIG = 78;

/**
 * The real entry (the service bundled as tools/build.mjs does), started as an operator would:
 * what it prints and its exit code when it refuses to start.
 */
describe('signer-api start-up refusals (the built service)', () => {
  let service: PrivateBundle;
  let dir: string;
  let profile: EmbeddedProfile;

  beforeAll(async () => {
    service = await privateSignerBundle('startup-errors');
    dir = mkdtempSync(join(tmpdir(), 'signer-startup-errors-'));
    profile = await generateEmbeddedProfile(dir);
  }, 60_000);
  afterAll(() => {
    service?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the service on `configPath` until it exits (it is expected to refuse to start). */
  const run = (env: Record<string, string>, configPath = profile.configPath): Promise<Exit> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--enable-source-maps', service.main], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env['PATH'] ?? '', SIGNER_CONFIG: configPath, ...env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the service did not exit:\n${stderr}`));
      }, 30_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });

  /** A copy of the profile's config with `edit` applied, next to the profile's files. */
  const editedConfig = (edit: (config: Record<string, Record<string, unknown>>) => void): string => {
    const config = parse(readFileSync(profile.configPath, 'utf8')) as Record<string, Record<string, unknown>>;
    edit(config);
    const path = join(dir, `edited-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, stringify(config));
    return path;
  };

  const expectOneLine = (exit: Exit, code: number, line: string | RegExp) => {
    expect(exit.code).toBe(code);
    expect(exit.stderr).not.toMatch(STACK_FRAME);
    expect(exit.stdout).not.toMatch(STACK_FRAME);
    const lines = exit.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    if (typeof line === 'string') expect(lines[0]).toBe(line);
    else expect(lines[0]).toMatch(line);
  };

  describe('when the YAML has a syntax error next to a registry password', () => {
    it('names the file, line and column, prints none of the text, and exits 78', async () => {
      const path = join(dir, 'broken.yaml');
      writeFileSync(
        path,
        [
          'server:',
          '  port: 8080',
          'releaseIntegrity:',
          '  registryAuth:',
          '    registry.example: { username: robot, password: hunter2-Sup3rSecret',
          '  scannerRepository: registry.example/scanner',
          '',
        ].join('\n'),
      );
      const exit = await run({}, path);
      expectOneLine(
        exit,
        EXIT_CONFIG,
        new RegExp(`^signer-api: configuration ${path} line \\d+, column \\d+: YAML syntax error \\(.+\\)$`),
      );
      expect(`${exit.stderr}${exit.stdout}`).not.toMatch(/hunter2|Sup3rSecret|robot/);
    });
  });

  describe('when a key has a value outside its allowed set', () => {
    it('names the key, the allowed values and its position, and exits 78', async () => {
      const path = editedConfig((config) => (config['authority']['senderConstraint'] = 'dpopp'));
      const exit = await run({}, path);
      expect(exit.code).toBe(EXIT_CONFIG);
      expect(exit.stderr).toMatch(
        /authority\.senderConstraint: expected one of "dpop", "mtls", "either" \(line \d+, column \d+\)/,
      );
      expect(exit.stderr).toContain(`signer-api: invalid configuration ${path}:`);
      expect(exit.stderr).not.toMatch(/constant|anyOf|dpopp/);
      expect(exit.stderr).not.toMatch(STACK_FRAME);
    });
  });

  describe('when a file named by the configuration is missing', () => {
    it.each([
      [
        'a trusted release keys file',
        { SIGNER__RELEASEINTEGRITY__TRUSTEDKEYSFILES: '[release/missing.pem]' },
        'releaseIntegrity.trustedKeysFiles[0]',
        'release/missing.pem',
      ],
      [
        'the Authority JWKS file',
        { SIGNER__AUTHORITY__JWKSFILE: 'authority/gone.json' },
        'authority.jwksFile',
        'authority/gone.json',
      ],
    ])('names the key and the file for %s, and exits 78', async (_label, env, key, file) => {
      const exit = await run(env);
      expect(exit.code).toBe(EXIT_CONFIG);
      expect(exit.stderr).toContain(
        `  ${key}: cannot read ${join(dir, file)} (no such file) (from ${Object.keys(env)[0]})`,
      );
      expect(exit.stderr).not.toMatch(STACK_FRAME);
    });
  });

  describe('when SIGNER_LOG_LEVEL is not a level', () => {
    it('says which levels exist in one line, and exits 78', async () => {
      const exit = await run({ SIGNER_LOG_LEVEL: 'verbose' });
      expectOneLine(
        exit,
        EXIT_CONFIG,
        'signer-api: SIGNER_LOG_LEVEL: expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent"',
      );
    });
  });

  describe('when the port is already in use', () => {
    let holder: Server;
    let held: number;
    beforeAll(async () => {
      holder = createServer();
      held = await freePort();
      await new Promise<void>((resolve) => holder.listen(held, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise((resolve) => holder.close(resolve)));

    it('names the address and server.port in one line, and exits 1', async () => {
      const exit = await run({ SIGNER__SERVER__PORT: String(held) });
      expectOneLine(
        exit,
        1,
        `signer-api: cannot listen on 127.0.0.1:${held} (server.port): the address is already in use`,
      );
    });

    it('names server.adminPort when the admin listener cannot bind, and exits 1', async () => {
      const exit = await run({
        SIGNER__SERVER__PORT: String(await freePort()),
        SIGNER__SERVER__ADMINPORT: String(held),
      });
      expectOneLine(
        exit,
        1,
        `signer-api: cannot listen on 127.0.0.1:${held} (server.adminPort): the address is already in use`,
      );
    });
  });

  describe('when started with an admin port', () => {
    it('serves ready/not-ready publicly and each dependency on the admin listener only', async () => {
      const [port, adminPort] = [await freePort(), await freePort()];
      const replica = await SignerProcess.start({
        bundle: service.main,
        port,
        auditFile: join(dir, 'audit', 'admin-test.jsonl'),
        env: { SIGNER_CONFIG: profile.configPath, SIGNER__SERVER__ADMINPORT: String(adminPort) },
      });
      try {
        const open = await fetch(`${replica.url}/readyz`);
        expect([open.status, await open.json()]).toEqual([200, { status: 'ready' }]);
        const admin = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
        expect(admin.status).toBe(200);
        expect(await admin.json()).toMatchObject({
          status: 'ready',
          dependencies: { 'release-layout': 'ok', 'audit-file': 'ok', 'licensing-offline-keys': 'ok' },
        });
        expect((await fetch(`http://127.0.0.1:${adminPort}/api/v1/signer/keys`)).status).toBe(404);
      } finally {
        await replica.stop();
      }
    });
  });
});
