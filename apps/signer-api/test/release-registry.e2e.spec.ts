import { generateReleaseKey } from '@signer/dev';
import {
  buildRegistryRelease,
  DockerRegistry,
  publishToDockerRegistry,
  TcpProxy,
  type PublishedSignatureOptions,
  type RegistryRelease,
} from '@signer/testing';
import { adminReadyz } from './admin-readyz';
import {
  expectProblem,
  expectVerdict,
  lastOutcome,
  startRegistryHarness,
  type RegistryHarness,
} from './release-harness';

// Starts the real registry (Debian docker-registry) and pushes signed releases to it.
jest.setTimeout(60_000);

const trustedKey = generateReleaseKey('ecdsa-p256');
const strangerKey = generateReleaseKey('ecdsa-p256');
const OTHER_DIGEST = `sha256:${'ab'.repeat(32)}`;
// The embedded profile's PoE: valid_release_year 2030, max_version 1.99.99.
const RELEASES: Record<
  string,
  { version: string; created?: string; signatures: PublishedSignatureOptions[] }
> = {
  trusted: { version: '1.4.2', signatures: [{ key: trustedKey }] },
  unsigned: { version: '1.5.0', signatures: [] },
  untrusted: { version: '1.5.1', signatures: [{ key: strangerKey }] },
  otherDigest: { version: '1.5.2', signatures: [{ key: trustedKey, payloadDigest: OTHER_DIGEST }] },
  conflicting: {
    version: '1.5.3',
    signatures: [
      { key: trustedKey, version: '1.5.3' },
      { key: trustedKey, version: '1.6.0' },
    ],
  },
  tamperedManifest: { version: '1.5.4', signatures: [{ key: trustedKey, defect: 'corrupt-manifest-blob' }] },
  tamperedPayload: { version: '1.5.5', signatures: [{ key: trustedKey, defect: 'corrupt-payload-blob' }] },
  oversizedLayer: { version: '1.5.6', signatures: [{ key: trustedKey, paddingBytes: 1_100_000 }] },
  legacySig: { version: '1.5.7', signatures: [{ key: trustedKey, placement: 'legacy-sig' }] },
  bundle: { version: '1.5.8', signatures: [{ key: trustedKey, format: 'bundle-dsse' }] },
  tooNew: { version: '1.5.9', created: '2031-01-02T00:00:00Z', signatures: [{ key: trustedKey }] },
  tooHigh: { version: '2.0.0', signatures: [{ key: trustedKey }] },
  cachedThenDown: { version: '1.6.1', signatures: [{ key: trustedKey }] },
  neverSeen: { version: '1.6.2', signatures: [{ key: trustedKey }] },
};

describe('release integrity against a real OCI registry (no Referrers API)', () => {
  let registry: DockerRegistry;
  let proxy: TcpProxy;
  let signer: RegistryHarness;
  const releases: Record<string, RegistryRelease> = {};
  const digest = (name: string) => releases[name].scannerDigest;

  beforeAll(async () => {
    registry = await DockerRegistry.start();
    for (const [name, spec] of Object.entries(RELEASES)) {
      releases[name] = buildRegistryRelease(spec);
      await publishToDockerRegistry(registry, releases[name]);
    }
    proxy = await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(registry.baseUrl).port) });
    signer = await startRegistryHarness({
      registryUrl: `http://127.0.0.1:${proxy.port}`,
      trustedKeys: [trustedKey],
      // Readiness re-checked on every probe: the outage tests read it right after the cut.
      env: { SIGNER__SERVER__READINESSCACHEMS: '0' },
    });
  });

  afterAll(async () => {
    await signer?.close();
    await proxy?.close();
    await registry?.stop();
  });

  describe('when the image carries a trusted cosign signature listed by the tag-schema index', () => {
    it('reports the registry as ready on the admin /readyz', async () => {
      const ready = await adminReadyz(signer.harness.runtime);
      expect(ready.body.dependencies).toMatchObject({ 'release-registry': 'ok' });
    });

    it('answers trusted with the signed release metadata, and signs', async () => {
      const verdict = expectVerdict(await signer.verify(digest('trusted')), {
        trusted: true,
        reason: null,
        source: 'tag-schema',
      });
      expect(verdict).toMatchObject({
        digest: digest('trusted'),
        release: { version: '1.4.2', created: '2025-06-01T00:00:00Z' },
        signatures: [{ kind: 'cosign', verified: true, keyId: expect.stringMatching(/^sha256:/) }],
      });
      const signed = await signer.sign(digest('trusted'));
      expect(signed.statusCode).toBe(200);
      expect(lastOutcome(signer.harness, digest('trusted'))).toBe('signed');
    });
  });

  describe.each([
    ['legacySig', 'only the legacy cosign sha256-<hex>.sig tag', 'cosign'],
    ['bundle', 'a Sigstore bundle (DSSE, in-toto statement) referrer', 'sigstore-bundle'],
  ])('when the image is signed through %s (%s)', (name, _label, kind) => {
    it('answers trusted and signs', async () => {
      const verdict = expectVerdict(await signer.verify(digest(name)), {
        trusted: true,
        reason: null,
        source: 'tag-schema',
      });
      expect(verdict.signatures).toEqual([expect.objectContaining({ kind, verified: true })]);
      expect((await signer.sign(digest(name))).statusCode).toBe(200);
    });
  });

  describe.each([
    ['unsigned', 'no_signatures'],
    ['untrusted', 'untrusted_key'],
    ['otherDigest', 'digest_mismatch'],
    ['conflicting', 'conflicting_metadata'],
    ['tamperedManifest', 'malformed_manifest'],
    ['tamperedPayload', 'malformed_manifest'],
    ['oversizedLayer', 'malformed_manifest'],
  ])('when the release is %s', (name, reason) => {
    it(`reports ${reason} on /verify/referrers`, async () => {
      const verdict = expectVerdict(await signer.verify(digest(name)), {
        trusted: false,
        reason,
        source: 'tag-schema',
      });
      expect(verdict.release).toBeNull();
      expect(lastOutcome(signer.harness, digest(name))).toBe('checked');
    });

    it('refuses to sign with 403 release_untrusted, audited', async () => {
      const body = expectProblem(await signer.sign(digest(name)), 403, 'release_untrusted');
      expect(lastOutcome(signer.harness, digest(name))).toBe('release_untrusted');
      expect(JSON.stringify(body)).not.toContain(signer.harness.poe);
    });
  });

  describe('when the signed release falls outside the licence window', () => {
    it.each([
      ['created after valid_release_year', 'tooNew'],
      ['version above max_version', 'tooHigh'],
    ])('is trusted but signing is refused with 403 entitlement_denied (%s)', async (_label, name) => {
      expectVerdict(await signer.verify(digest(name)), { trusted: true, reason: null, source: 'tag-schema' });
      expectProblem(await signer.sign(digest(name)), 403, 'entitlement_denied');
    });
  });

  describe('when the registry goes down', () => {
    beforeAll(async () => {
      // Warm the verdict cache for one release, then cut the registry off.
      expectVerdict(await signer.verify(digest('cachedThenDown')), {
        trusted: true,
        reason: null,
        source: 'tag-schema',
      });
      proxy.cut();
    });
    afterAll(() => proxy.restore());

    it('still signs a release whose verdict is cached', async () => {
      expect((await signer.sign(digest('cachedThenDown'))).statusCode).toBe(200);
    });

    it('reports the registry as unavailable on the admin /readyz', async () => {
      const ready = await adminReadyz(signer.harness.runtime);
      expect(ready.statusCode).toBe(503);
      expect(ready.body.dependencies).toMatchObject({ 'release-registry': 'unavailable' });
    });

    it('answers 503 upstream_unavailable for a release with no cached verdict, on both endpoints', async () => {
      const signed = await signer.sign(digest('neverSeen'));
      expectProblem(signed, 503, 'upstream_unavailable');
      expect(signed.headers['retry-after']).toBe('5');
      expectProblem(await signer.verify(digest('neverSeen')), 503, 'upstream_unavailable');
      expect(lastOutcome(signer.harness, digest('neverSeen'))).toBe('upstream_unavailable');
    });

    it('did not cache the outage: the release is trusted once the registry is back', async () => {
      proxy.restore();
      expectVerdict(await signer.verify(digest('neverSeen')), {
        trusted: true,
        reason: null,
        source: 'tag-schema',
      });
    });
  });
});
