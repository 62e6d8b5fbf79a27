import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DpopKey } from '@signer/client';
import { generateEmbeddedProfile, type DevAuthority, type EmbeddedProfile } from '@signer/dev';
import {
  freePort,
  privateSignerBundle,
  SignerProcess,
  SoftHsmToken,
  type PrivateBundle,
} from '@signer/testing';
import { parse, stringify } from 'yaml';
import { httpRequest, SIGN_PATH, type HttpAnswer } from './authority-harness';
import { newCaller, profileParties } from './harness';
import { verifyDsse, verifyKeyedBundle, type Envelope } from './signing-fixtures';

// Bundling the service, generating an RSA-3072 key in the token and starting a process.
jest.setTimeout(120_000);

const KEYS = {
  'hsm-p256': { key: 'p256', algorithm: 'ES256', extra: { poolSize: 2, timeoutMs: 2000 } },
  'hsm-p384': { key: 'p384', algorithm: 'ES384', extra: {} },
  'hsm-rsa-pss': { key: 'rsa3072', algorithm: 'PS256', extra: { algorithm: 'PS256' } },
} as const;

/**
 * The built service as its own process, signing with keys held in a real SoftHSM2 token
 * (`pkcs11:` references): the child gets SOFTHSM2_CONF only because the test passes it, as a
 * deployment must. Signatures are checked with node:crypto and @sigstore/verify.
 */
describe('signing with PKCS#11 keys (SoftHSM2) in a Signer process', () => {
  let service: PrivateBundle;
  let token: SoftHsmToken;
  let dir: string;
  let profile: EmbeddedProfile;
  let authority: DevAuthority;
  let signer: SignerProcess;
  let adminPort: number;

  beforeAll(async () => {
    [service, token] = await Promise.all([privateSignerBundle('pkcs11'), SoftHsmToken.create()]);
    dir = mkdtempSync(join(tmpdir(), 'signer-pkcs11-'));
    profile = await generateEmbeddedProfile(dir);
    adminPort = await freePort();
    const raw = parse(readFileSync(profile.configPath, 'utf8')) as Record<string, Record<string, unknown>>;
    raw['server'] = { ...raw['server'], adminPort, adminHost: '127.0.0.1' };
    const keys = (raw['signing'] as { keys: Record<string, unknown> }).keys;
    for (const [name, { key, extra }] of Object.entries(KEYS)) keys[name] = { ref: token.uri(key), ...extra };
    writeFileSync(profile.configPath, stringify(raw));
    ({ authority } = await profileParties(profile));
    signer = await SignerProcess.start({
      bundle: service.main,
      port: await freePort(),
      auditFile: join(dir, 'audit/pkcs11.jsonl'),
      env: { SIGNER_CONFIG: profile.configPath, ...token.env },
    });
  });

  afterAll(async () => {
    await signer?.stop();
    service?.remove();
    token?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const poe = () => readFileSync(profile.poeFile, 'utf8');
  const body = (keyId: string) => ({
    subject: [{ name: 'registry.example/app', digest: { sha256: 'cd'.repeat(32) } }],
    predicateType: 'https://stella-ops.org/attestations/sbom/1',
    predicate: { hsm: true },
    scannerImageDigest: profile.scannerImageDigest,
    poe: { format: 'jwt', value: poe() },
    options: { signingMode: 'kms', keyId },
  });
  const headers = async (caller: { key: DpopKey; token: string }, nonce?: string) => ({
    authorization: `DPoP ${caller.token}`,
    dpop: await caller.key.proof({
      method: 'POST',
      url: `${signer.url}${SIGN_PATH}`,
      accessToken: caller.token,
      nonce,
    }),
  });
  /** Signs over real HTTP with a fresh DPoP caller, doing the nonce dance. */
  const sign = async (keyId: string): Promise<HttpAnswer> => {
    const caller = await newCaller(authority, profile);
    const url = `${signer.url}${SIGN_PATH}`;
    const first = await httpRequest(url, { body: body(keyId), headers: await headers(caller) });
    if (first.statusCode !== 401) return first;
    const nonce = String(first.headers['dpop-nonce']);
    return httpRequest(url, { body: body(keyId), headers: await headers(caller, nonce) });
  };
  const published = async () =>
    (await httpRequest(`${signer.url}/api/v1/signer/keys`, { method: 'GET' })).json() as {
      keys: Array<{ keyId: string; algorithm: string; publicKeyPem: string }>;
    };

  describe('when a request names a pkcs11 key', () => {
    it.each(Object.entries(KEYS).map(([name, { algorithm }]) => [name, algorithm]))(
      'signs with %s (%s); the DSSE and the Sigstore bundle verify with the key at GET /keys',
      async (keyId, algorithm) => {
        const response = await sign(keyId);
        expect(response.statusCode).toBe(200);
        const answer = response.json() as {
          bundle: { dsse: Envelope; mode: string };
          sigstoreBundle: { dsseEnvelope: Envelope; verificationMaterial: { publicKey: { hint: string } } };
        };
        expect(answer.bundle.mode).toBe('kms');
        // The published entry whose keyid the envelope carries (a name or a fingerprint).
        const keyid = answer.bundle.dsse.signatures[0].keyid;
        const key = (await published()).keys.find((k) => k.keyId === keyid);
        expect(key?.algorithm).toBe(algorithm);
        const pem = key?.publicKeyPem ?? '';
        expect(verifyDsse(answer.bundle.dsse, algorithm, pem)).toBe(true);
        expect(verifyDsse(answer.sigstoreBundle.dsseEnvelope, algorithm, pem)).toBe(true);
        // @sigstore/verify 3.1.1 checks ES256 and RS256 public-key bundles only (signing-fixtures).
        if (algorithm === 'ES256') {
          const hint = answer.sigstoreBundle.verificationMaterial.publicKey.hint;
          expect(() => verifyKeyedBundle(answer.sigstoreBundle, hint, algorithm, pem)).not.toThrow();
        }
      },
    );

    it('signs concurrent requests beyond the key pool size; every one verifies', async () => {
      const answers = await Promise.all(Array.from({ length: 6 }, () => sign('hsm-p256')));
      const keys = (await published()).keys;
      for (const answer of answers) {
        expect(answer.statusCode).toBe(200);
        const { bundle } = answer.json() as { bundle: { dsse: Envelope } };
        const key = keys.find((k) => k.keyId === bundle.dsse.signatures[0].keyid);
        expect(key?.algorithm).toBe('ES256');
        expect(verifyDsse(bundle.dsse, 'ES256', key?.publicKeyPem ?? '')).toBe(true);
      }
    });
  });

  describe('when readiness is probed on the admin listener', () => {
    it('reports each pkcs11 key as a dependency, ready', async () => {
      const response = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
      expect(response.status).toBe(200);
      const { dependencies } = (await response.json()) as { dependencies: Record<string, string> };
      for (const name of Object.keys(KEYS)) expect(dependencies[`kms:${name}`]).toBe('ok');
    });
  });

  describe('when the logs are read', () => {
    it('never contains the PIN', () => {
      const pin = readFileSync(token.pinFile, 'utf8').trim();
      expect(signer.logs.lines.length).toBeGreaterThan(0);
      expect(signer.logs.lines.join('\n')).not.toContain(pin);
    });
  });

  describe('when the PIN file holds a wrong PIN', () => {
    it('refuses to start (exit 78), naming the key and the PIN file, never the PIN', async () => {
      const wrongPin = token.writePinFile('wrong.pin', 'wrong-pin-0815\n');
      const configPath = join(dir, 'wrong-pin.yaml');
      const raw = parse(readFileSync(profile.configPath, 'utf8')) as Record<string, Record<string, unknown>>;
      raw['server'] = { ...raw['server'], adminPort: 0 };
      (raw['signing'] as { keys: Record<string, unknown> }).keys['hsm-p256'] = {
        ref: token.uri('p256', { pinFile: wrongPin }),
      };
      writeFileSync(configPath, stringify(raw));
      const attempt = SignerProcess.start({
        bundle: service.main,
        port: await freePort(),
        env: { SIGNER_CONFIG: configPath, ...token.env },
      });
      const refusal = await attempt.then(
        async (started) => {
          await started.stop();
          return 'started';
        },
        (error: Error) => error.message,
      );
      expect(refusal).toMatch(/exit 78/);
      expect(refusal).toMatch(
        /signing key "hsm-p256" \(pkcs11\): the token refused the login \(CKR_PIN_INCORRECT\)/,
      );
      expect(refusal).toContain(wrongPin);
      expect(refusal).not.toContain('0815');
    });
  });

  describe('when the process is stopped', () => {
    it('exits cleanly (0) on SIGTERM, closing the key pools with the runtime', async () => {
      await signer.stop();
      expect(signer.state).toBe('exit 0');
    });
  });
});
