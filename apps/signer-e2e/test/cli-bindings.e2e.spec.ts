import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevPki, type IssuedCertificate } from '@signer/testing';
import { signer, type CliRun } from './built-apps';
import { auditRecords, startDeployment, type Deployment } from './deployment';

jest.setTimeout(60_000);

/** The CLI's two sender bindings against the built service on https, asking for client certificates. */
describe('signer bindings over HTTPS', () => {
  let deployment: Deployment;
  let work: string;
  let pki: DevPki;
  let client: IssuedCertificate;
  const files = { ca: '', cert: '', key: '' };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'signer-e2e-tls-'));
    pki = await DevPki.create();
    const server = await pki.issueServer();
    client = await pki.issueClient('scanner-web');
    files.ca = join(work, 'ca.pem');
    files.cert = writePem('client', client);
    files.key = join(work, 'client.key');
    writeFileSync(files.ca, pki.ca.certPem);
    writeFileSync(files.key, client.keyPem, { mode: 0o600 });
    writeFileSync(join(work, 'report.txt'), 'scan report: 0 findings\n');
    deployment = await startDeployment({
      ca: pki.ca.certPem,
      edit: (raw, dir) => {
        writeFileSync(join(dir, 'server.pem'), server.certPem);
        writeFileSync(join(dir, 'server.key'), server.keyPem, { mode: 0o600 });
        writeFileSync(join(dir, 'client-ca.pem'), pki.ca.certPem);
        raw['server'] = {
          ...raw['server'],
          tls: { certFile: 'server.pem', keyFile: 'server.key', clientCaFile: 'client-ca.pem' },
        };
        raw['authority'] = { ...raw['authority'], senderConstraint: 'either' };
      },
    });
  });
  afterAll(async () => {
    await deployment?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const cli = (...args: string[]): Promise<CliRun> => signer(args, { cwd: work });
  const common = () => [
    '--url',
    deployment.url,
    '--cacert',
    files.ca,
    '--poe-file',
    deployment.caller.poeFile,
    '--scanner-digest',
    deployment.caller.scannerDigest,
  ];
  const mtls = () => ['--client-cert', files.cert, '--client-key', files.key];
  const tokenFile = async (name: string, binding: { jkt: string } | { x5tS256: string }) => {
    const file = join(work, name);
    writeFileSync(file, await deployment.token(binding), { mode: 0o600 });
    return file;
  };
  const audited = (auditId: string) =>
    auditRecords(deployment).find((record) => record['auditId'] === auditId);

  describe('when signing with a client certificate', () => {
    it('sends the token as Bearer over mTLS; the Signer audits the mtls binding', async () => {
      const token = await tokenFile('mtls.jwt', { x5tS256: client.thumbprint });
      const result = await cli('sign', 'report.txt', ...common(), ...mtls(), '--token-file', token);
      expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/^[0-9a-f-]{36}\n$/) });
      expect(audited(result.stdout.trim())).toMatchObject({
        outcome: 'signed',
        binding: { kind: 'mtls', thumbprint: client.thumbprint },
      });
    });

    it('reports a token bound to another certificate as the Signer refusal, without the token', async () => {
      const other = await pki.issueClient('someone-else');
      const token = await tokenFile('other.jwt', { x5tS256: other.thumbprint });
      const result = await cli('sign', 'report.txt', ...common(), ...mtls(), '--token-file', token);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^invalid_token: /);
      expect(result.stderr).not.toContain(readFileSync(token, 'utf8'));
    });

    it('sends poe.format mtls, which offline Licensing refuses (exit 1, entitlement_denied)', async () => {
      const token = await tokenFile('mtls.jwt', { x5tS256: client.thumbprint });
      const result = await cli(
        'sign',
        'report.txt',
        ...common(),
        ...mtls(),
        '--token-file',
        token,
        '--poe-format',
        'mtls',
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^entitlement_denied: /);
    });
  });

  describe('when signing with DPoP over HTTPS', () => {
    it('uses --dpop-key, trusting the server through --cacert', async () => {
      const { caller } = deployment;
      const result = await cli(
        'sign',
        'report.txt',
        ...common(),
        '--dpop-key',
        caller.dpopKeyFile,
        '--token-file',
        caller.tokenFile,
      );
      expect(result.code).toBe(0);
      expect(audited(result.stdout.trim())).toMatchObject({
        binding: { kind: 'dpop', thumbprint: caller.dpopKey.thumbprint },
      });
    });
  });

  function writePem(name: string, certificate: IssuedCertificate): string {
    const file = join(work, `${name}.pem`);
    writeFileSync(file, certificate.certPem);
    return file;
  }
});
