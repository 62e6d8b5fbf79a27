import { createHash } from 'node:crypto';
import { canonicalize, verifyAuditChain, type ChainedAuditRecord } from '@signer/core';
import { verifySigstoreBundleWithKey } from '@signer/client';
import { verifyDsseIndependently } from './independent-verify';
import { adminReadyz } from './admin-readyz';
import { startWithCaller, validBody, type Caller, type Harness } from './harness';

describe('POST /api/v1/signer/sign/dsse', () => {
  let harness: Harness;
  let caller: Caller;

  beforeAll(async () => ({ harness, caller } = await startWithCaller()));
  afterAll(() => harness.close());

  describe('when every gate passes', () => {
    it('returns a bundle whose DSSE and Sigstore bundle verify independently', async () => {
      const response = await caller.sign(validBody(harness), { 'x-correlation-id': 'corr-happy-1' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-correlation-id']).toBe('corr-happy-1');
      const body = response.json();
      expect(body.bundle.mode).toBe('kms');
      expect(body.bundle.dsse.payloadType).toBe('application/vnd.in-toto+json');
      expect(body.policy).toEqual({
        plan: 'pro',
        maxArtifactBytes: 10485760,
        qpsRemaining: expect.any(Number),
      });

      const keys = (await harness.app.inject({ method: 'GET', url: '/api/v1/signer/keys' })).json();
      // The DSSE keyid and the identity are the key's fingerprint; /keys names it by label too.
      const published = keys.keys.find((k: { name: string }) => k.name === 'default');
      expect(published).toMatchObject({ algorithm: 'ES256', state: 'active', isDefault: true });
      expect(published.keyId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(body.bundle.signingIdentity.keyId).toBe(published.keyId);
      expect(body.bundle.dsse.signatures[0].keyid).toBe(published.keyId);
      expect(verifyDsseIndependently(body.bundle.dsse, published.publicKeyPem)).toBe(true);

      expect(body.sigstoreBundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
      await expect(
        verifySigstoreBundleWithKey(body.sigstoreBundle, {
          keyHint: published.keyId,
          publicKeyPem: published.publicKeyPem,
        }),
      ).resolves.toBeUndefined();
    });

    it('signs the canonical in-toto Statement v1 with subjects sorted', async () => {
      const body = validBody(harness, {
        subject: [
          { name: 'z', digest: { sha256: '1'.repeat(64) } },
          { name: 'a', digest: { sha256: '2'.repeat(64) } },
        ],
      });
      const response = await caller.sign(body);
      const statement = JSON.parse(
        Buffer.from(response.json().bundle.dsse.payload, 'base64').toString('utf8'),
      );
      expect(statement._type).toBe('https://in-toto.io/Statement/v1');
      expect(statement.subject.map((s: { name: string }) => s.name)).toEqual(['a', 'z']);
      expect(statement.predicate).toEqual(body.predicate);
    });

    it('produces byte-identical payloads for identical requests', async () => {
      const first = await caller.sign(validBody(harness));
      const second = await caller.sign(validBody(harness));
      expect(first.json().bundle.dsse.payload).toBe(second.json().bundle.dsse.payload);
      expect(first.json().auditId).not.toBe(second.json().auditId);
    });

    it('writes a durable, chained audit record before answering', async () => {
      const response = await caller.sign(validBody(harness), { 'x-correlation-id': 'corr-audit-1' });
      const body = response.json();
      const record = harness
        .auditLines()
        .find((line) => line['auditId'] === body.auditId) as unknown as ChainedAuditRecord;
      expect(record).toMatchObject({
        outcome: 'signed',
        correlationId: 'corr-audit-1',
        tenant: harness.profile.tenant,
        installation: harness.profile.installation,
        licenseId: 'lic-dev-0001',
        plan: 'pro',
        mode: 'kms',
        keyId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        scannerImageDigest: harness.profile.scannerImageDigest,
        binding: { kind: 'dpop', thumbprint: caller.key.thumbprint },
      });
      expect(Object.values(record.gates).every((verdict) => verdict === 'pass')).toBe(true);
      const canonicalBundle = canonicalize(body.bundle);
      expect(record.bundleSha256).toBe(createHash('sha256').update(canonicalBundle).digest('hex'));
      expect(verifyAuditChain(harness.auditLines() as unknown as ChainedAuditRecord[]).ok).toBe(true);
    });
  });

  describe('when the operator scrapes the service', () => {
    it('serves liveness, readiness and the contract metrics', async () => {
      expect((await harness.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
      const ready = await harness.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: 'ready' });
      expect((await adminReadyz(harness.runtime)).body.dependencies).toEqual({
        'release-layout': 'ok',
        'audit-file': 'ok',
        'licensing-offline-keys': 'ok',
        state: 'ok',
      });
      const metrics = (await harness.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/signer_requests_total\{outcome="signed",mode="kms"\} [1-9]/);
      expect(metrics).toMatch(/signer_poe_decisions_total\{result="allow"\} [1-9]/);
      expect(metrics).toMatch(/signer_release_verdicts_total\{result="trusted",source="oci-layout"\} 1/);
      expect(metrics).toMatch(/signer_cache_hits_total\{cache="release"\} [1-9]/);
      expect(metrics).toContain('signer_request_duration_seconds_bucket{le="0.005",stage="sign"}');
    });
  });
});
