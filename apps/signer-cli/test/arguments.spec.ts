import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@signer/testing';
import { run } from '../src/main';
import { capturedIo, type CapturedRun } from './captured-io';

const { version } = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as {
  version: string;
};
const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('signer arguments and exit codes', () => {
  let work: string;
  const cli = async (argv: string[], env: Record<string, string> = {}): Promise<CapturedRun> => {
    const io = capturedIo(work, env);
    const code = await run(argv, io);
    return { code, stdout: io.out.join(''), stderr: io.err.join('') };
  };
  // Everything `sign` needs but the one thing a case leaves out.
  const signArgs = (...drop: string[]) => {
    const all: Record<string, string> = {
      '--url': 'http://127.0.0.1:9',
      '--token-file': 'token.jwt',
      '--dpop-key': 'caller.jwk.json',
      '--poe-file': 'poe.jwt',
      '--scanner-digest': DIGEST,
    };
    return Object.entries(all).flatMap(([name, value]) => (drop.includes(name) ? [] : [name, value]));
  };

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'signer-cli-args-'));
    writeFileSync(join(work, 'report.txt'), 'scan report\n');
    writeFileSync(join(work, 'token.jwt'), 'header.claims.signature\n');
    writeFileSync(join(work, 'poe.jwt'), 'poe.claims.signature\n');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  describe('when asked for the version', () => {
    it('prints the package version, or it as JSON with --json', async () => {
      expect(await cli(['--version'])).toEqual({ code: 0, stdout: `signer ${version}\n`, stderr: '' });
      expect(JSON.parse((await cli(['--version', '--json'])).stdout)).toEqual({ version });
    });
  });

  describe('when asked for help', () => {
    it.each([[['help']], [['--help']], [['sign', '--help']], [['dev', 'sign', '-h']]])(
      'prints the usage on stdout for %j (exit 0)',
      async (argv) => {
        const result = await cli(argv);
        expect(result).toMatchObject({ code: 0, stderr: '' });
        expect(result.stdout).toContain('signer sign <file> --url URL');
        expect(result.stdout).toContain('Exit codes: 0 ok; 1 refused');
      },
    );
  });

  describe('when the arguments are wrong', () => {
    it.each([
      [[], /no command given/],
      [['frobnicate'], /unknown command: frobnicate/],
      [['sign'], /sign: expected <file>, got 0/],
      [['sign', 'a', 'b', ...signArgs()], /expected <file>, got 2/],
      [['sign', 'report.txt', '--bogus'], /Unknown option '--bogus'/],
      [['sign', 'report.txt', ...signArgs('--url')], /--url \(or \$SIGNER_URL\) is required/],
      [['sign', 'report.txt', ...signArgs('--url'), '--url', 'ftp://x'], /expected an http\(s\) URL/],
      [['sign', 'report.txt', ...signArgs('--scanner-digest')], /--scanner-digest is required/],
      [
        ['sign', 'report.txt', ...signArgs('--scanner-digest'), '--scanner-digest', 'sha256:AB'],
        /expected sha256:<64/,
      ],
      [['sign', 'report.txt', ...signArgs('--poe-file')], /--poe-file is required/],
      [['sign', 'report.txt', ...signArgs(), '--poe-format', 'xml'], /--poe-format is jwt or mtls/],
      [['sign', 'report.txt', ...signArgs('--token-file')], /--token-file is required/],
      [['sign', 'report.txt', ...signArgs('--dpop-key')], /--dpop-key \(a private JWK\) or --client-cert/],
      [['sign', 'report.txt', ...signArgs('--dpop-key'), '--client-cert', 'c.pem'], /go together/],
      [
        ['sign', 'report.txt', ...signArgs(), '--client-cert', 'c.pem', '--client-key', 'k'],
        /choose one binding/,
      ],
      [['verify', 'b.json', '--url', 'http://a', '--key', 'k.pem'], /one of --url, --key or --trusted-root/],
      [
        ['referrers', 'sha256:abc', '--url', 'http://127.0.0.1:9'],
        /referrers: expected sha256:<64 lowercase hex>/,
      ],
      [
        ['dpop-proof', '--url', 'http://a/x', '--dpop-key', 'k'],
        /--method, --url and --dpop-key are required/,
      ],
      [['dev', 'frob'], /dev: expected token, sign or verify/],
      [['dev', 'token', '--bogus'], /Unknown option '--bogus'/],
      [['audit', 'shred'], /audit: expected verify, export, migrate, chains or end-chain/],
    ])('exits 2 for %j', async (argv, message) => {
      const result = await cli(argv);
      expect(result).toMatchObject({ code: 2, stdout: '' });
      expect(result.stderr).toMatch(message);
    });

    it('prints the failure as one JSON document with --json', async () => {
      const result = await cli(['sign', 'report.txt', '--json']);
      expect(result.code).toBe(2);
      expect(JSON.parse(result.stdout)).toEqual({
        error: {
          exitCode: 2,
          code: 'usage',
          message: expect.stringContaining('--url (or $SIGNER_URL) is required'),
        },
      });
    });
  });

  describe('when a file cannot be used', () => {
    it('refuses a DPoP key file that is not a private JWK (exit 1), without quoting it', async () => {
      writeFileSync(join(work, 'caller.jwk.json'), 'secret-material-not-json');
      const result = await cli(['sign', 'report.txt', ...signArgs()]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/--dpop-key: expected a private JWK/);
      expect(result.stderr).not.toContain('secret-material');
    });

    it('names the missing artifact (exit 1)', async () => {
      const result = await cli(['sign', 'missing.txt', ...signArgs()]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/missing\.txt: cannot read \(ENOENT\)/);
    });
  });

  describe('when the Signer cannot be reached', () => {
    it('exits 3 with the cause, taking the URL from $SIGNER_URL', async () => {
      const result = await cli(['keys'], { SIGNER_URL: `http://127.0.0.1:${await freePort()}` });
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(
        /^network_error: GET \/api\/v1\/signer\/keys: request failed \(.*ECONNREFUSED/,
      );
    });
  });
});
