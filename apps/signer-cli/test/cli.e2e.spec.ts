import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DpopKey, type SignDsseResponse } from '@signer/client';
import { decodeJwt } from 'jose';
import { run } from '../src/main';
import { CALLER_KEY_FILE } from '../src/profile';
import { capturedIo, type CapturedRun } from './captured-io';
import { freePort, startSigner, type InProcessSigner } from './in-process-signer';

jest.setTimeout(30_000);

describe('signer-cli', () => {
  let signer: InProcessSigner;
  let work: string;
  let artifact: string;

  const cli = async (argv: string[], io = capturedIo(work)): Promise<CapturedRun> => {
    const code = await run(argv, io);
    return { code, stdout: io.out.join(''), stderr: io.err.join('') };
  };
  const profileArgs = () => ['--profile', signer.profile.dir];
  const readBundle = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as SignDsseResponse;

  beforeAll(async () => {
    signer = await startSigner();
    work = mkdtempSync(join(tmpdir(), 'signer-cli-work-'));
    artifact = join(work, 'report.txt');
    writeFileSync(artifact, 'scan report: 0 findings\n');
  });

  afterAll(async () => {
    await signer?.close();
    rmSync(work, { recursive: true, force: true });
  });

  describe('when dev-token runs', () => {
    it('prints only a JWT bound to the saved caller key, for the profile tenant', async () => {
      const result = await cli(['dev-token', ...profileArgs()]);

      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
      const keyFile = join(signer.profile.dir, CALLER_KEY_FILE);
      const saved = await DpopKey.fromPrivateJwk(JSON.parse(readFileSync(keyFile, 'utf8')));
      expect(decodeJwt(result.stdout.trim())).toMatchObject({
        cnf: { jkt: saved.thumbprint },
        tid: signer.profile.tenant,
        inst: signer.profile.installation,
      });
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    });

    it('reuses the saved key on the next run', async () => {
      const first = decodeJwt((await cli(['dev-token', ...profileArgs()])).stdout.trim());
      const second = decodeJwt((await cli(['dev-token', ...profileArgs()])).stdout.trim());

      expect(second['cnf']).toEqual(first['cnf']);
      expect(second['jti']).not.toEqual(first['jti']);
    });
  });

  describe('when sign runs on a file', () => {
    it('writes the bundle next to the file and prints the auditId', async () => {
      const result = await cli(['sign', 'report.txt', ...profileArgs()]);

      expect(result.code).toBe(0);
      const bundle = readBundle(`${artifact}.bundle.json`);
      expect(result.stdout).toBe(`${bundle.auditId}\n`);
      const statement = JSON.parse(Buffer.from(bundle.bundle.dsse.payload, 'base64').toString('utf8'));
      expect(statement).toMatchObject({
        subject: [
          {
            name: 'report.txt',
            digest: { sha256: createHash('sha256').update(readFileSync(artifact)).digest('hex') },
          },
        ],
        predicateType: 'https://stella-ops.org/attestations/scan-report/1',
        predicate: { artifact: { name: 'report.txt', size: statSync(artifact).size } },
      });
    });

    it('honours --out, --predicate-type and --idempotency-key', async () => {
      const out = join(work, 'sbom.json');
      const result = await cli([
        'sign',
        artifact,
        '--out',
        out,
        '--predicate-type',
        'https://stella-ops.org/attestations/sbom/1',
        '--idempotency-key',
        'cli-e2e-1',
        ...profileArgs(),
      ]);

      expect(result.code).toBe(0);
      const statement = JSON.parse(
        Buffer.from(readBundle(out).bundle.dsse.payload, 'base64').toString('utf8'),
      );
      expect(statement.predicateType).toBe('https://stella-ops.org/attestations/sbom/1');
    });
  });

  describe('when verify runs on a signed bundle', () => {
    let bundleFile: string;
    let pemFile: string;

    beforeAll(async () => {
      bundleFile = join(work, 'verify-me.json');
      await cli(['sign', artifact, '--out', bundleFile, ...profileArgs()]);
      pemFile = join(work, 'signer.pub.pem');
      const privatePem = readFileSync(join(signer.profile.dir, 'signing/default.pem'));
      writeFileSync(pemFile, createPublicKey(privatePem).export({ type: 'spki', format: 'pem' }).toString());
    });

    it('prints the verified subjects with the keys from --url', async () => {
      const result = await cli(['verify', bundleFile, '--url', signer.url]);

      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^verified: report\.txt \(sha256:[0-9a-f]{64}\)\n$/);
    });

    it('verifies offline with --key', async () => {
      const offline = capturedIo(work);
      offline.fetch = () => Promise.reject(new Error('network used'));
      const result = await cli(['verify', bundleFile, '--key', pemFile], offline);

      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^verified: report\.txt/);
    });

    it('fails with exit 1 on a flipped payload byte', async () => {
      const tampered = readBundle(bundleFile);
      const bytes = Buffer.from(tampered.bundle.dsse.payload, 'base64');
      bytes[bytes.length - 3] ^= 0x01;
      tampered.bundle.dsse.payload = bytes.toString('base64');
      (tampered.sigstoreBundle['dsseEnvelope'] as { payload: string }).payload = bytes.toString('base64');
      const tamperedFile = join(work, 'tampered.json');
      writeFileSync(tamperedFile, JSON.stringify(tampered));

      for (const source of [
        ['--url', signer.url],
        ['--key', pemFile],
      ]) {
        const result = await cli(['verify', tamperedFile, ...source]);
        expect(result).toMatchObject({ code: 1, stdout: '' });
        expect(result.stderr).toMatch(/^verification failed: verification_failed: /);
      }
    });

    it('fails with exit 1 on a key that is not the signer key', async () => {
      const otherPem = join(work, 'other.pem');
      writeFileSync(
        otherPem,
        generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
          type: 'spki',
          format: 'pem',
        }),
      );

      const result = await cli(['verify', bundleFile, '--key', otherPem]);
      expect(result).toMatchObject({ code: 1, stdout: '' });
    });
  });

  describe('when the profile PoE was replaced by garbage', () => {
    it('prints the entitlement_denied refusal with its auditId and exits 1', async () => {
      const broken = mkdtempSync(join(tmpdir(), 'signer-cli-broken-'));
      cpSync(signer.profile.dir, broken, { recursive: true });
      writeFileSync(join(broken, 'licensing/poe.jwt'), 'garbage.not-a.poe');
      const out = join(work, 'refused.json');

      const result = await cli(['sign', artifact, '--out', out, '--profile', broken]);
      rmSync(broken, { recursive: true, force: true });

      expect(result).toMatchObject({ code: 1, stdout: '' });
      expect(result.stderr).toMatch(/^entitlement_denied: .+ \(auditId \S+\)\n$/);
      expect(result.stderr).not.toContain('garbage.not-a.poe');
      expect(existsSync(out)).toBe(false);
    });
  });

  describe('when nothing listens at --url', () => {
    it('reports network_error and exits 1', async () => {
      const result = await cli([
        'sign',
        artifact,
        '--out',
        join(work, 'never.json'),
        '--url',
        `http://127.0.0.1:${await freePort()}`,
        ...profileArgs(),
      ]);

      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^network_error: /);
    });
  });

  describe('when the arguments are wrong', () => {
    it.each([
      [['sign']],
      [['sign', 'a', 'b']],
      [['verify', 'x.json', '--url', 'http://a', '--key', 'k.pem']],
      [['dev-token', '--bogus']],
      [['frobnicate']],
    ])('exits 2 for %j', async (argv) => {
      const result = await cli(argv);
      expect(result).toMatchObject({ code: 2, stdout: '' });
    });

    it('prints help on stdout for help', async () => {
      const result = await cli(['help']);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toContain('signer-cli sign <file>');
    });
  });

  describe('when no profile exists', () => {
    it('says how to create one and exits 1', async () => {
      const result = await cli(['dev-token', '--profile', join(work, 'missing')]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('run `npm start` once');
    });
  });
});
