import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DpopKey, type SignDsseResponse } from '@signer/client';
import { generateEmbeddedProfile, type EmbeddedProfile } from '@signer/dev';
import { DevPki, freePort, type SignerProcess } from '@signer/testing';
import { decodeJwt } from 'jose';
import { signer, startBuiltSigner, type CliRun } from './built-apps';

jest.setTimeout(60_000);

/** `signer dev …`: the embedded profile fills in what the commands for any deployment require. */
describe('signer dev commands on the embedded profile', () => {
  let profile: EmbeddedProfile;
  let service: SignerProcess;
  let work: string;
  const cli = (...args: string[]): Promise<CliRun> => signer(args, { cwd: work });
  const profileArgs = () => ['--profile', profile.dir];

  beforeAll(async () => {
    const port = await freePort();
    profile = await generateEmbeddedProfile(mkdtempSync(join(tmpdir(), 'signer-e2e-dev-')), { port });
    service = await startBuiltSigner(profile.configPath, port);
    work = mkdtempSync(join(tmpdir(), 'signer-e2e-dev-work-'));
    writeFileSync(join(work, 'report.txt'), 'scan report: 0 findings\n');
  });
  afterAll(async () => {
    await service?.stop();
    rmSync(profile.dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  describe('when dev token runs', () => {
    it('prints only a JWT bound to the saved caller key, for the profile tenant', async () => {
      const result = await cli('dev', 'token', ...profileArgs());
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
      const keyFile = join(profile.dir, 'caller/dpop.jwk.json');
      const saved = await DpopKey.fromPrivateJwk(JSON.parse(readFileSync(keyFile, 'utf8')));
      expect(decodeJwt(result.stdout.trim())).toMatchObject({
        cnf: { jkt: saved.thumbprint },
        tid: profile.tenant,
        inst: profile.installation,
      });
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    });

    it('binds the token to a client certificate with --client-cert (cnf.x5t#S256)', async () => {
      const client = await DevPki.selfSigned('cli-e2e-caller');
      writeFileSync(join(work, 'client.pem'), client.certPem);
      const result = await cli('dev', 'token', ...profileArgs(), '--client-cert', join(work, 'client.pem'));
      expect(result).toMatchObject({ code: 0, stderr: '' });
      // RFC 8705 §3.1, computed here with node:crypto rather than by the CLI's own helper.
      const x5t = createHash('sha256').update(new X509Certificate(client.certPem).raw).digest('base64url');
      expect(decodeJwt(result.stdout.trim())['cnf']).toEqual({ 'x5t#S256': x5t });
    });

    it('reuses the saved key on the next run', async () => {
      const first = decodeJwt((await cli('dev', 'token', ...profileArgs())).stdout.trim());
      const second = decodeJwt((await cli('dev', 'token', ...profileArgs())).stdout.trim());
      expect(second['cnf']).toEqual(first['cnf']);
      expect(second['jti']).not.toEqual(first['jti']);
    });
  });

  describe('when dev sign and dev verify run', () => {
    it('signs with the profile defaults and verifies against the profile Signer', async () => {
      const signed = await cli('dev', 'sign', 'report.txt', ...profileArgs());
      expect(signed.code).toBe(0);
      const bundle = JSON.parse(
        readFileSync(join(work, 'report.txt.bundle.json'), 'utf8'),
      ) as SignDsseResponse;
      expect(signed.stdout).toBe(`${bundle.auditId}\n`);
      const statement = JSON.parse(Buffer.from(bundle.bundle.dsse.payload, 'base64').toString('utf8'));
      expect(statement).toMatchObject({
        subject: [
          {
            name: 'report.txt',
            digest: {
              sha256: createHash('sha256')
                .update(readFileSync(join(work, 'report.txt')))
                .digest('hex'),
            },
          },
        ],
        predicateType: 'https://stella-ops.org/attestations/scan-report/1',
        predicate: { artifact: { name: 'report.txt', size: statSync(join(work, 'report.txt')).size } },
      });
      const verified = await cli(
        'dev',
        'verify',
        'report.txt.bundle.json',
        '--artifact',
        'report.txt',
        ...profileArgs(),
      );
      expect(verified).toMatchObject({ code: 0, stderr: '' });
      expect(verified.stdout).toMatch(/^verified: report\.txt \(sha256:[0-9a-f]{64}\)\n$/);
    });

    it('verifies offline with --key, needing no profile', async () => {
      await cli('dev', 'sign', 'report.txt', '--out', 'keyed.json', ...profileArgs());
      const pem = createPublicKey(readFileSync(join(profile.dir, 'signing/default.pem'))).export({
        type: 'spki',
        format: 'pem',
      });
      writeFileSync(join(work, 'signer.pem'), pem);
      const result = await cli(
        'dev',
        'verify',
        'keyed.json',
        '--key',
        'signer.pem',
        '--profile',
        join(work, 'none'),
      );
      expect(result).toMatchObject({ code: 0, stderr: '' });
    });
  });

  describe('when no profile exists', () => {
    it('says how to create one and exits 1', async () => {
      const result = await cli('dev', 'token', '--profile', join(work, 'missing'));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('run `npm start` once');
    });
  });
});
