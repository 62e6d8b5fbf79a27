import { createHash, randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DpopKey } from '@signer/client';
import { DEV_PREDICATES, DevAuthority, generateEmbeddedProfile } from '@signer/dev';
import { freePort } from '@signer/testing';
import { parse, stringify } from 'yaml';
import { startBuiltSigner } from './built-apps';
import {
  CLIENT_PACKAGE_NAME,
  installIntoEmptyProject,
  packClient,
  run,
} from './client-package/packed-client';

jest.setTimeout(180_000);

/** A plan that refills one signature every two seconds: the second of two quick signs gets 429. */
const SLOW_PLAN = { qps: 0.5, burst: 1, concurrency: 4, maxArtifactBytes: 1_048_576, dailyCap: 1000 };

interface ConsumerOutput {
  auditIds: string[];
  signedSubjects: string[];
  sent: Array<{ path: string; status: number; idempotencyKey: string | null }>;
  retries: Array<{ attempt: number; status: number; code?: string; delayMs: number }>;
  requireSharesClasses: boolean;
}

/**
 * The client as a calling team gets it: packed, installed from the tarball into an empty project,
 * used by a plain node script against the built service on a deployment config (quotas in Redis,
 * its own audit file, a slow plan) — not the dev profile the service generates for `npm start`.
 */
describe('@stella-ops/signer-client installed from its tarball', () => {
  const folders: string[] = [];
  let service: { stop(): Promise<void> };
  let project: string;
  let auditFile: string;
  let input: Record<string, unknown>;
  const digests = [randomUUID(), randomUUID()].map((seed) => createHash('sha256').update(seed).digest('hex'));

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signer-client-service-'));
    const caller = mkdtempSync(join(tmpdir(), 'signer-client-caller-'));
    folders.push(dir, caller);
    const port = await freePort();
    const profile = await generateEmbeddedProfile(dir, { port });
    const raw = parse(readFileSync(profile.configPath, 'utf8')) as Record<string, Record<string, unknown>>;
    raw['server'] = { ...raw['server'], port, publicBaseUrl: `http://127.0.0.1:${port}` };
    raw['quotas'] = {
      store: 'redis',
      redisUrl: 'redis://127.0.0.1:6379',
      redisKeyPrefix: `e2e-client-${randomUUID().slice(0, 8)}:`,
      plans: { pro: SLOW_PLAN },
    };
    raw['audit'] = { sink: 'file', filePath: 'trail/audit.jsonl' };
    auditFile = join(dir, 'trail/audit.jsonl');
    const configPath = join(dir, 'deployment.yaml');
    writeFileSync(configPath, stringify(raw));

    // What the operator hands the calling team: files only.
    const authority = await DevAuthority.fromPrivateJwk(
      JSON.parse(readFileSync(profile.authorityPrivateJwkFile, 'utf8')),
    );
    const dpopKey = await DpopKey.generate();
    const token = await authority.mint({
      tenant: profile.tenant,
      installation: profile.installation,
      jkt: dpopKey.thumbprint,
    });
    input = {
      baseUrl: `http://127.0.0.1:${port}`,
      tokenFile: join(caller, 'optok.jwt'),
      dpopKeyFile: join(caller, 'dpop.jwk.json'),
      poeFile: profile.poeFile,
      scannerDigest: profile.scannerImageDigest,
      predicateType: DEV_PREDICATES[0],
      digests,
    };
    writeFileSync(String(input['tokenFile']), token, { mode: 0o600 });
    writeFileSync(String(input['dpopKeyFile']), JSON.stringify(await dpopKey.toPrivateJwk()), {
      mode: 0o600,
    });

    const tarball = packClient();
    folders.push(join(tarball, '..'));
    project = installIntoEmptyProject(tarball);
    folders.push(project);
    service = await startBuiltSigner(configPath, port);
  });
  afterAll(async () => {
    await service?.stop();
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  describe('when a plain node script signs twice in a row with it', () => {
    let output: ConsumerOutput;
    const audit = () =>
      readFileSync(auditFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { auditId: string; outcome: string; subjectDigests?: string[] });

    beforeAll(() => {
      copyFileSync(join(__dirname, 'client-package/consumer.mjs'), join(project, 'consumer.mjs'));
      writeFileSync(join(project, 'input.json'), JSON.stringify(input));
      const result = run(process.execPath, ['consumer.mjs', 'input.json'], project);
      if (result.status !== 0) throw new Error(`consumer failed:\n${result.stderr.slice(-2000)}`);
      output = JSON.parse(result.stdout) as ConsumerOutput;
    });

    it('gets both statements signed and verifies them with the keys the service publishes', () => {
      expect(output.signedSubjects).toEqual(digests);
      expect(output.requireSharesClasses).toBe(true);
    });

    it('retries the throttled sign after Retry-After with the same Idempotency-Key', () => {
      const signs = output.sent.filter((request) => request.path === '/api/v1/signer/sign/dsse');
      const keys = [...new Set(signs.map((request) => request.idempotencyKey))];
      expect(keys).toHaveLength(2);
      expect(keys.every((key) => /^[0-9a-f-]{36}$/.test(String(key)))).toBe(true);
      const second = signs.filter((request) => request.idempotencyKey === keys[1]).map((r) => r.status);
      expect(second).toContain(429);
      expect(second.at(-1)).toBe(200);
      expect(output.retries).toEqual([
        { attempt: expect.any(Number), status: 429, code: 'plan_throttled', delayMs: expect.any(Number) },
      ]);
      expect(output.retries[0].delayMs).toBeGreaterThanOrEqual(1000);
      expect(output.retries[0].delayMs).toBeLessThanOrEqual(2000);
    });

    it('leaves exactly one signed decision per statement in the audit trail', () => {
      const records = audit();
      for (const [index, digest] of digests.entries()) {
        const about = records.filter((record) => record.subjectDigests?.some((d) => d.endsWith(digest)));
        const signed = about.filter((record) => record.outcome === 'signed');
        expect(signed.map((record) => record.auditId)).toEqual([output.auditIds[index]]);
      }
      const throttled = records.filter(
        (record) =>
          record.outcome === 'plan_throttled' && record.subjectDigests?.some((d) => d.endsWith(digests[1])),
      );
      expect(throttled.length).toBeGreaterThanOrEqual(1);
    });
  });

  describe('when a TypeScript project compiles against it', () => {
    it('finds the declarations for import and require under node16 resolution, without skipLibCheck', () => {
      const use = [
        `const client = new SignerClient({ baseUrl: 'http://127.0.0.1:1', accessToken: 't', retry: { maxAttempts: 2 } });`,
        `const answer: Promise<SignDsseResponse> = client.signDsse({ subject: [], predicateType: 'p', predicate: {}, scannerImageDigest: 'd', poe: { format: 'mtls' } });`,
        `export const checks = [answer, SignerProblemError, DEFAULT_RETRY_OPTIONS.maxAttempts];`,
      ].join('\n');
      const names = `SignerClient, SignerProblemError, DEFAULT_RETRY_OPTIONS, type SignDsseResponse`;
      writeFileSync(join(project, 'esm.mts'), `import { ${names} } from '${CLIENT_PACKAGE_NAME}';\n${use}\n`);
      writeFileSync(join(project, 'cjs.cts'), `import { ${names} } from '${CLIENT_PACKAGE_NAME}';\n${use}\n`);
      const tsc = join(__dirname, '../../../node_modules/typescript/bin/tsc');
      const types = join(__dirname, '../../../node_modules/@types');
      const flags = ['--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16'];
      const result = run(
        process.execPath,
        [tsc, ...flags, '--target', 'es2022', '--types', 'node', '--typeRoots', types, 'esm.mts', 'cjs.cts'],
        project,
      );

      expect(result.stdout + result.stderr).toBe('');
      expect(result.status).toBe(0);
    });
  });

  describe('when the installed package is listed', () => {
    it('holds the bundle, the ES entry, the declarations, the manifest and the README only', () => {
      const installed = join(project, 'node_modules', CLIENT_PACKAGE_NAME);
      const files = readdirSync(installed, { recursive: true, encoding: 'utf8' }).filter((f) =>
        f.includes('.'),
      );

      expect(files).toEqual(
        expect.arrayContaining(['index.js', 'index.mjs', 'index.d.ts', 'README.md', 'package.json']),
      );
      expect(
        files.filter((file) => !/(\.d\.ts|^index\.m?js|^README\.md|^package\.json)$/.test(file)),
      ).toEqual([]);
    });
  });
});
