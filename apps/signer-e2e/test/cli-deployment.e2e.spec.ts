import { createHash, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignDsseResponse } from '@signer/client';
import { freePort } from '@signer/testing';
import { signer, type CliRun } from './built-apps';
import { auditRecords, startDeployment, type Deployment } from './deployment';

jest.setTimeout(60_000);

/** The built `signer` CLI against the built service on a deployment config, with files only. */
describe('signer CLI against a deployment', () => {
  let deployment: Deployment;
  let work: string;
  const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
  const cli = (...args: string[]): Promise<CliRun> => signer(args, { cwd: work });
  const callerArgs = () => [
    '--url',
    deployment.url,
    '--token-file',
    deployment.caller.tokenFile,
    '--dpop-key',
    deployment.caller.dpopKeyFile,
  ];
  const signArgs = () => [
    ...callerArgs(),
    '--poe-file',
    deployment.caller.poeFile,
    '--scanner-digest',
    deployment.caller.scannerDigest,
  ];
  const statementOf = (file: string) =>
    JSON.parse(
      Buffer.from(
        (JSON.parse(readFileSync(file, 'utf8')) as SignDsseResponse).bundle.dsse.payload,
        'base64',
      ).toString('utf8'),
    );

  beforeAll(async () => {
    deployment = await startDeployment();
    work = mkdtempSync(join(tmpdir(), 'signer-e2e-work-'));
    writeFileSync(join(work, 'report.txt'), 'scan report: 0 findings\n');
    writeFileSync(join(work, 'other.txt'), 'not the signed file\n');
    writeFileSync(join(work, 'predicate.json'), JSON.stringify({ scanner: { name: 'e2e' }, findings: 0 }));
  });
  afterAll(async () => {
    await deployment?.close();
    rmSync(work, { recursive: true, force: true });
  });

  describe('when sign is given the caller files', () => {
    it('signs the file digest, writes the bundle and prints the auditId the Signer recorded', async () => {
      const result = await cli('sign', 'report.txt', ...signArgs());
      expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/^[0-9a-f-]{36}\n$/) });
      expect(statementOf(join(work, 'report.txt.bundle.json')).subject).toEqual([
        { name: 'report.txt', digest: { sha256: sha256(join(work, 'report.txt')) } },
      ]);
      expect(auditRecords(deployment).find((r) => r['auditId'] === result.stdout.trim())).toMatchObject({
        outcome: 'signed',
        binding: { kind: 'dpop', thumbprint: deployment.caller.dpopKey.thumbprint },
      });
    });

    it('takes the predicate from --predicate-file and prints JSON with --json', async () => {
      const result = await cli(
        'sign',
        'report.txt',
        ...signArgs(),
        '--predicate-type',
        'https://stella-ops.org/attestations/sbom/1',
        '--predicate-file',
        'predicate.json',
        '--out',
        'sbom.bundle.json',
        '--json',
      );
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({
        auditId: expect.any(String),
        mode: 'kms',
        keyId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        subject: { name: 'report.txt', sha256: sha256(join(work, 'report.txt')) },
      });
      expect(statementOf(join(work, 'sbom.bundle.json'))).toMatchObject({
        predicateType: 'https://stella-ops.org/attestations/sbom/1',
        predicate: { scanner: { name: 'e2e' }, findings: 0 },
      });
    });

    it('reports a refused PoE with its code and auditId (exit 1), never the PoE', async () => {
      writeFileSync(join(work, 'garbage.poe'), 'garbage.not-a.poe');
      const args = signArgs();
      args[args.indexOf('--poe-file') + 1] = 'garbage.poe';
      const result = await cli('sign', 'report.txt', ...args, '--out', 'refused.json', '--json');
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout)).toMatchObject({
        error: { code: 'entitlement_denied', status: 403, auditId: expect.any(String), exitCode: 1 },
      });
      expect(result.stderr).toMatch(/^entitlement_denied: .+ \(auditId \S+\)\n$/);
      expect(result.stderr + result.stdout).not.toContain('garbage.not-a.poe');
    });
  });

  describe('when verify checks a signed bundle', () => {
    beforeAll(async () => {
      expect((await cli('sign', 'report.txt', ...signArgs(), '--out', 'verify-me.json')).code).toBe(0);
      const keys = JSON.parse((await cli('keys', '--url', deployment.url, '--json')).stdout) as {
        keys: Array<{ publicKeyPem: string }>;
      };
      writeFileSync(
        join(work, 'signer.pem'),
        createPublicKey(keys.keys[0].publicKeyPem).export({ type: 'spki', format: 'pem' }),
      );
    });

    it('verifies with the keys at --url and the artifact it names', async () => {
      const result = await cli(
        'verify',
        'verify-me.json',
        '--url',
        deployment.url,
        '--artifact',
        'report.txt',
      );
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^verified: report\.txt \(sha256:[0-9a-f]{64}\)\n$/);
    });

    it('verifies offline with --key and says which subject the artifact matched (--json)', async () => {
      const result = await cli(
        'verify',
        'verify-me.json',
        '--key',
        'signer.pem',
        '--artifact',
        'report.txt',
        '--json',
      );
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({
        verified: true,
        mode: 'kms',
        keyId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        artifact: { subject: 'report.txt', sha256: sha256(join(work, 'report.txt')) },
      });
    });

    it('fails (exit 1) when the artifact is not a subject of the statement', async () => {
      const result = await cli('verify', 'verify-me.json', '--key', 'signer.pem', '--artifact', 'other.txt');
      expect(result).toMatchObject({ code: 1, stdout: '' });
      expect(result.stderr).toContain('is not a subject of the statement');
    });

    it('fails (exit 1) on a flipped payload byte', async () => {
      const tampered = JSON.parse(readFileSync(join(work, 'verify-me.json'), 'utf8')) as SignDsseResponse;
      const bytes = Buffer.from(tampered.bundle.dsse.payload, 'base64');
      bytes[bytes.length - 3] ^= 0x01;
      tampered.bundle.dsse.payload = bytes.toString('base64');
      (tampered.sigstoreBundle['dsseEnvelope'] as { payload: string }).payload = bytes.toString('base64');
      writeFileSync(join(work, 'tampered.json'), JSON.stringify(tampered));
      const result = await cli('verify', 'tampered.json', '--url', deployment.url);
      expect(result).toMatchObject({ code: 1, stdout: '' });
      expect(result.stderr).toMatch(/^verification failed: verification_failed: /);
    });
  });

  describe('when keys and referrers are asked', () => {
    it('lists the signing key', async () => {
      const result = await cli('keys', '--url', deployment.url);
      expect(result.code).toBe(0);
      // fingerprint (the DSSE keyid), algorithm, label, lifecycle state, installation default.
      expect(result.stdout).toMatch(
        /^sha256:[0-9a-f]{64}\tES256\tdefault\tactive\tdefault\n-----BEGIN PUBLIC KEY-----/,
      );
    });

    it('reports the scanner release as trusted (exit 0, --json verdict)', async () => {
      const result = await cli('referrers', deployment.caller.scannerDigest, ...callerArgs(), '--json');
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({
        digest: deployment.caller.scannerDigest,
        trusted: true,
      });
    });

    it('reports an unknown image as not trusted (exit 1)', async () => {
      const result = await cli('referrers', `sha256:${'0'.repeat(64)}`, ...callerArgs());
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/^not trusted: sha256:0{64} /);
    });
  });

  describe('when a curl user makes DPoP proofs', () => {
    it('calls /verify/referrers with the printed proof and the nonce the Signer handed out', async () => {
      const url = `${deployment.url}/api/v1/signer/verify/referrers`;
      const token = readFileSync(deployment.caller.tokenFile, 'utf8').trim();
      const proof = async (...extra: string[]) =>
        (
          await cli(
            'dpop-proof',
            '--method',
            'GET',
            '--url',
            url,
            '--dpop-key',
            deployment.caller.dpopKeyFile,
            '--token-file',
            deployment.caller.tokenFile,
            ...extra,
          )
        ).stdout.trim();
      const call = async (dpop: string) =>
        fetch(`${url}?digest=${deployment.caller.scannerDigest}`, {
          headers: { authorization: `DPoP ${token}`, dpop },
        });
      const challenge = await call(await proof());
      // Status and body together, so a refusal names its code (a rare 401 here was never explained).
      expect({ status: challenge.status, body: await challenge.json() }).toMatchObject({
        status: 401,
        body: { code: 'use_dpop_nonce' },
      });
      const nonce = challenge.headers.get('dpop-nonce') ?? '';
      const answer = await call(await proof('--nonce', nonce));
      expect({ status: answer.status, body: await answer.json() }).toMatchObject({
        status: 200,
        body: { trusted: true },
      });
    });
  });

  describe('when nothing listens at --url', () => {
    it('reports network_error and exits 3', async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      const args = signArgs();
      args[args.indexOf('--url') + 1] = url;
      const result = await cli('sign', 'report.txt', ...args, '--out', 'never.json');
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/^network_error: .*ECONNREFUSED/);
    });
  });
});
