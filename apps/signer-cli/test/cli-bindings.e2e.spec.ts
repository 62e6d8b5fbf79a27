import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DpopKey } from '@signer/client';
import { generateEmbeddedProfile, type EmbeddedProfile } from '@signer/dev';
import { DevPki, type IssuedCertificate } from '@signer/testing';
import { decodeJwt } from 'jose';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../signer-api/src/config/load-config';
import { createApp } from '../../signer-api/src/http/create-app';
import { serverTls } from '../../signer-api/src/http/server-tls';
import { createLogger } from '../../signer-api/src/observability/logger';
import { createRuntime, type SignerRuntime } from '../../signer-api/src/wiring/create-runtime';
import { run } from '../src/main';
import { capturedIo, type CapturedRun } from './captured-io';
import { freePort } from './in-process-signer';

jest.setTimeout(30_000);

/** The CLI's two sender bindings against a real HTTPS Signer that asks for client certificates. */
describe('signer-cli bindings over HTTPS', () => {
  let dir: string;
  let work: string;
  let profile: EmbeddedProfile;
  let runtime: SignerRuntime;
  let app: NestFastifyApplication;
  let url: string;
  let pki: DevPki;
  let client: IssuedCertificate;
  const files = { ca: '', cert: '', key: '' };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'signer-cli-tls-'));
    work = mkdtempSync(join(tmpdir(), 'signer-cli-tls-work-'));
    const port = await freePort();
    url = `https://127.0.0.1:${port}`;
    profile = await generateEmbeddedProfile(dir, { port });
    pki = await DevPki.create();
    const server = await pki.issueServer();
    client = await pki.issueClient('scanner-web');
    files.ca = join(work, 'ca.pem');
    files.cert = join(work, 'client.pem');
    files.key = join(work, 'client.key');
    writeFileSync(files.ca, pki.ca.certPem);
    writeFileSync(files.cert, client.certPem);
    writeFileSync(files.key, client.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'server.pem'), server.certPem);
    writeFileSync(join(dir, 'server.key'), server.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'client-ca.pem'), pki.ca.certPem);
    const raw = parse(readFileSync(profile.configPath, 'utf8')) as Record<string, Record<string, unknown>>;
    raw['server'] = {
      ...raw['server'],
      publicBaseUrl: url,
      tls: { certFile: 'server.pem', keyFile: 'server.key', clientCaFile: 'client-ca.pem' },
    };
    raw['authority'] = { ...raw['authority'], senderConstraint: 'either' };
    writeFileSync(profile.configPath, stringify(raw));
    const config = loadConfig(profile.configPath, {});
    runtime = await createRuntime(config);
    const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
    app = await createApp(runtime, {
      logger: createLogger({ destination: quiet }),
      https: serverTls(config),
    });
    await app.listen({ host: '127.0.0.1', port });
    writeFileSync(join(work, 'report.txt'), 'scan report: 0 findings\n');
  });
  afterAll(async () => {
    await app?.close();
    await runtime?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  const cli = async (argv: string[]): Promise<CapturedRun> => {
    const io = capturedIo(work);
    const code = await run(argv, io);
    return { code, stdout: io.out.join(''), stderr: io.err.join('') };
  };
  const sign = (...extra: string[]) =>
    cli(['sign', 'report.txt', '--profile', profile.dir, '--url', url, '--cacert', files.ca, ...extra]);
  const audited = (auditId: string) =>
    readFileSync(join(dir, 'audit/audit.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((record) => record['auditId'] === auditId);

  describe('when signing with a client certificate', () => {
    it('sends the dev token as Bearer over mTLS; the Signer audits the mtls binding', async () => {
      const result = await sign('--client-cert', files.cert, '--client-key', files.key);
      expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/^[0-9a-f-]{36}\n$/) });
      expect(audited(result.stdout.trim())).toMatchObject({
        outcome: 'signed',
        binding: { kind: 'mtls', thumbprint: client.thumbprint },
      });
    });
    it('reports a token bound to another certificate as the Signer refusal, without the token', async () => {
      const other = await pki.issueClient('someone-else');
      const tokenFile = join(work, 'other.token');
      const token = (
        await cli(['dev-token', '--profile', profile.dir, '--client-cert', writePem(other)])
      ).stdout.trim();
      writeFileSync(tokenFile, token);
      const result = await sign(
        '--client-cert',
        files.cert,
        '--client-key',
        files.key,
        '--token-file',
        tokenFile,
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^invalid_token: /);
      expect(result.stderr).not.toContain(token);
    });
    it('sends poe.format mtls, which offline Licensing refuses (exit 1, entitlement_denied)', async () => {
      const result = await sign(
        '--client-cert',
        files.cert,
        '--client-key',
        files.key,
        '--poe-format',
        'mtls',
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^entitlement_denied: /);
    });
  });

  describe('when signing with DPoP over HTTPS', () => {
    it('uses the key given with --dpop-key, trusting the server through --cacert', async () => {
      const key = await DpopKey.generate();
      const keyFile = join(work, 'dpop.jwk.json');
      writeFileSync(keyFile, JSON.stringify(await key.toPrivateJwk()), { mode: 0o600 });
      const result = await sign('--dpop-key', keyFile);
      expect(result.code).toBe(0);
      expect(audited(result.stdout.trim())).toMatchObject({
        binding: { kind: 'dpop', thumbprint: key.thumbprint },
      });
    });
  });

  describe('when the options do not make one binding', () => {
    it.each([
      [['--client-cert', 'client.pem'], /--client-cert and --client-key go together/],
      [
        ['--client-cert', 'client.pem', '--client-key', 'client.key', '--dpop-key', 'k.json'],
        /choose one binding/,
      ],
      [['--poe-format', 'mtls'], /--poe-format mtls needs --client-cert/],
      [['--poe-format', 'xml'], /--poe-format is jwt or mtls/],
    ])('refuses %j as a usage error', async (extra, message) => {
      const result = await sign(...extra);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    });
    it('refuses a DPoP key file that is not a private JWK, without quoting it', async () => {
      writeFileSync(join(work, 'bad.jwk'), 'secret-material-not-json');
      const result = await sign('--dpop-key', 'bad.jwk');
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/--dpop-key: expected a private JWK/);
      expect(result.stderr).not.toContain('secret-material');
    });
  });

  describe('when dev-token is given a client certificate', () => {
    it('binds the token to its SHA-256 thumbprint (cnf.x5t#S256)', async () => {
      const result = await cli(['dev-token', '--profile', profile.dir, '--client-cert', files.cert]);
      expect(result.code).toBe(0);
      expect(decodeJwt(result.stdout.trim())['cnf']).toEqual({ 'x5t#S256': client.thumbprint });
    });
  });

  function writePem(certificate: IssuedCertificate): string {
    const file = join(work, `${certificate.thumbprint.slice(0, 8)}.pem`);
    writeFileSync(file, certificate.certPem);
    return file;
  }
});
