import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FulcioTestCa, TestOidcIssuer, TestTsa } from '@signer/testing';
import { adminReadyz } from './admin-readyz';
import {
  KEYLESS_SUBJECT,
  keylessBody,
  startKeylessSigner,
  verifyDsse,
  verifyKeylessBundle,
  type KeylessSigner,
} from './signing-fixtures';

jest.setTimeout(30_000);

const SUBJECT = KEYLESS_SUBJECT;

describe('keyless signing (Fulcio at the wire)', () => {
  let oidc: TestOidcIssuer;
  let ca: FulcioTestCa;
  let tsa: TestTsa;
  let dir: string;
  beforeAll(async () => {
    [oidc, ca, tsa] = await Promise.all([TestOidcIssuer.create(), FulcioTestCa.create(), TestTsa.create()]);
    dir = mkdtempSync(join(tmpdir(), 'signer-keyless-e2e-'));
  });
  afterAll(() => {
    tsa.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const startSigner = (token?: string): Promise<KeylessSigner> =>
    startKeylessSigner({ oidc, ca, dir, token });

  describe('when 100 keyless requests arrive at once', () => {
    it('answers all of them with one Fulcio call and one certificate', async () => {
      const signer = await startSigner();
      try {
        const responses = await Promise.all(
          Array.from({ length: 100 }, () => signer.caller.sign(keylessBody(signer.harness))),
        );
        expect(responses.map((r) => r.statusCode)).toEqual(Array(100).fill(200));
        expect(signer.fulcio.calls).toHaveLength(1);
        expect(new Set(responses.map((r) => r.json().bundle.signingIdentity.certificateSerial)).size).toBe(1);
      } finally {
        await signer.close();
      }
    });
  });

  describe('when Fulcio issues a certificate', () => {
    let signer: KeylessSigner;
    let body: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- response JSON
    beforeAll(async () => {
      signer = await startSigner();
      const response = await signer.caller.sign(keylessBody(signer.harness));
      expect(response.statusCode).toBe(200);
      body = response.json();
    }, 60_000);
    afterAll(() => signer.close());

    it('returns the chain leaf first and the identity from the certificate', () => {
      const chain: string[] = body.bundle.certificateChain;
      expect(chain.slice(1)).toEqual(ca.chainPem());
      const leaf = new X509Certificate(chain[0]);
      const fingerprint = createHash('sha256').update(leaf.raw).digest('hex');
      expect(body.bundle.mode).toBe('keyless');
      expect(body.bundle.signingIdentity).toEqual({
        issuer: oidc.issuer,
        subject: SUBJECT,
        keyId: fingerprint,
        certExpiry: new Date(leaf.validTo).toISOString().replace('.000Z', 'Z'),
        certificateSerial: leaf.serialNumber.toLowerCase(),
      });
      expect(body.bundle.dsse.signatures[0].keyid).toBe(fingerprint);
    });

    it('signs a DSSE that node:crypto verifies with the leaf certificate key', () => {
      const leaf = new X509Certificate(body.bundle.certificateChain[0]);
      const pem = leaf.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      expect(verifyDsse(body.bundle.dsse, 'ES256', pem)).toBe(true);
    });

    it('returns a Sigstore bundle carrying the leaf that @sigstore/verify accepts once timestamped', () => {
      expect(body.sigstoreBundle.verificationMaterial.certificate.rawBytes).toBe(
        new X509Certificate(body.bundle.certificateChain[0]).raw.toString('base64'),
      );
      expect(() =>
        verifyKeylessBundle(body.sigstoreBundle, { ca, tsa }, { subject: SUBJECT, issuer: oidc.issuer }),
      ).not.toThrow();
    });

    it('publishes the Fulcio CA chain at GET /keys', async () => {
      const keys = (await signer.harness.app.inject({ method: 'GET', url: '/api/v1/signer/keys' })).json();
      expect(keys.fulcioChain).toEqual(ca.chainPem());
      expect(keys.keys.map((k: { name: string }) => k.name)).toEqual(['default']);
    });

    it('audits the certificate serial and reuses the certificate for later requests', async () => {
      const record = signer.harness.auditLines().find((line) => line['auditId'] === body.auditId);
      expect(record).toMatchObject({
        outcome: 'signed',
        mode: 'keyless',
        certificateSerial: body.bundle.signingIdentity.certificateSerial,
      });
      const again = await signer.caller.sign(keylessBody(signer.harness, 'dsse'));
      expect(again.statusCode).toBe(200);
      expect(again.json().bundle).not.toHaveProperty('certificateChain');
      expect(again.json().bundle.signingIdentity.certificateSerial).toBe(
        body.bundle.signingIdentity.certificateSerial,
      );
      expect(signer.fulcio.calls).toHaveLength(1);
    });
  });

  describe('when Fulcio answers 5xx before issuing', () => {
    it('retries and answers 200', async () => {
      const signer = await startSigner();
      try {
        signer.fulcio.failNext(2, 503);
        const response = await signer.caller.sign(keylessBody(signer.harness));
        expect(response.statusCode).toBe(200);
        expect(signer.fulcio.calls.map((c) => c.status)).toEqual([503, 503, 200]);
      } finally {
        await signer.close();
      }
    });
  });

  describe('when readiness is probed', () => {
    it('is ready while the token is usable and Fulcio answers, without requesting a certificate', async () => {
      // Readiness re-checked on every probe: the token expires between the two probes.
      const signer = await startKeylessSigner({
        oidc,
        ca,
        dir,
        env: { SIGNER__SERVER__READINESSCACHEMS: '0' },
      });
      try {
        const ready = await adminReadyz(signer.harness.runtime);
        expect(ready.statusCode).toBe(200);
        expect(ready.body.dependencies['fulcio']).toBe('ok');
        writeFileSync(
          signer.tokenFile,
          await oidc.mint({ email: SUBJECT, now: Math.floor(Date.now() / 1000) - 3600 }),
        );
        const expired = await adminReadyz(signer.harness.runtime);
        expect(expired.statusCode).toBe(503);
        expect(expired.body.dependencies['fulcio']).toBe('unavailable');
        expect(signer.fulcio.calls).toHaveLength(0);
      } finally {
        await signer.close();
      }
    });
  });

  describe("when Fulcio rejects the Signer's identity token", () => {
    it('answers 503 upstream_unavailable after one call, audited, without echoing the token', async () => {
      const stranger = await TestOidcIssuer.create(oidc.issuer);
      const token = await stranger.mint({ email: SUBJECT });
      const signer = await startSigner(token);
      try {
        const response = await signer.caller.sign(keylessBody(signer.harness));
        expect(response.statusCode).toBe(503);
        const problem = response.json();
        expect(problem).toMatchObject({ code: 'upstream_unavailable' });
        expect(signer.fulcio.calls.map((c) => c.outcome)).toEqual(['token-rejected']);
        expect(signer.harness.auditLines().find((l) => l['auditId'] === problem.auditId)).toMatchObject({
          outcome: 'upstream_unavailable',
          mode: 'keyless',
        });
        const signature = token.split('.')[2];
        expect(response.body).not.toContain(signature);
        expect(signer.harness.logs.lines.join('\n')).not.toContain(signature);
      } finally {
        await signer.close();
      }
    });
  });
});
