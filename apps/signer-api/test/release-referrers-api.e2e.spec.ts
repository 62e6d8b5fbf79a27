import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { generateReleaseKey, SIGSTORE_BUNDLE_V03_EARLY } from '@signer/dev';
import {
  buildRegistryRelease,
  ReferrersRegistry,
  type PublishedSignatureOptions,
  type RegistryRelease,
} from '@signer/testing';
import { expectProblem, expectVerdict, startRegistryHarness, type RegistryHarness } from './release-harness';

jest.setTimeout(30_000);

const trustedKey = generateReleaseKey('ecdsa-p256');
const strangerKey = generateReleaseKey('ed25519');
const CREDENTIALS = { username: 'signer', password: 'referrers-secret-5be1' };

describe('release integrity through the OCI Referrers API', () => {
  let registry: ReferrersRegistry;
  let signer: RegistryHarness;
  const release = (version: string, signatures: PublishedSignatureOptions[]) => {
    const built = buildRegistryRelease({ version, signatures });
    registry.add(built);
    return built;
  };
  let trusted: RegistryRelease;
  let earlyBundle: RegistryRelease;
  let mixed: RegistryRelease;
  let lying: RegistryRelease;
  let stranger: RegistryRelease;
  let failing: RegistryRelease;
  let concurrent: RegistryRelease;
  let shared: RegistryRelease;

  beforeAll(async () => {
    // Blobs go through a redirect to a second origin, as registries hand blobs to object storage.
    registry = await ReferrersRegistry.start({ blobRedirect: true, auth: CREDENTIALS });
    trusted = release('1.4.2', [{ key: trustedKey }]);
    earlyBundle = release('1.4.3', [
      { key: trustedKey, format: 'bundle-dsse', bundleMediaType: SIGSTORE_BUNDLE_V03_EARLY },
    ]);
    mixed = release('1.4.4', [{ key: trustedKey }, { key: trustedKey, placement: 'legacy-sig' }]);
    lying = release('1.4.5', [{ key: trustedKey, defect: 'corrupt-manifest-blob' }]);
    stranger = release('1.4.6', [{ key: strangerKey, format: 'bundle-dsse' }]);
    failing = release('1.4.7', [{ key: trustedKey }]);
    concurrent = release('1.4.8', [{ key: trustedKey }]);
    shared = release('1.4.9', [{ key: trustedKey }]);
    signer = await startRegistryHarness({
      registryUrl: registry.baseUrl,
      trustedKeys: [trustedKey],
      registryAuth: { [new URL(registry.baseUrl).host]: CREDENTIALS },
      env: { SIGNER__RELEASEINTEGRITY__TIMEOUTMS: '1500' },
    });
  });

  afterAll(async () => {
    await signer?.close();
    await registry?.close();
  });

  describe('when the registry lists a trusted cosign signature as a referrer', () => {
    it('answers trusted from the referrers-api source and signs', async () => {
      expectVerdict(await signer.verify(trusted.scannerDigest), {
        trusted: true,
        reason: null,
        source: 'referrers-api',
      });
      expect((await signer.sign(trusted.scannerDigest)).statusCode).toBe(200);
    });

    it('asked for the referrers by artifactType, and never sent credentials to the blob store', () => {
      const referrers = registry.requests.filter((r) => r.path.includes('/referrers/'));
      expect(
        referrers.map((r) => new URL(r.path, registry.baseUrl).searchParams.get('artifactType')),
      ).toEqual(
        expect.arrayContaining([
          'application/vnd.dev.cosign.artifact.sig.v1+json',
          'application/vnd.dev.sigstore.bundle.v0.3+json',
          'application/vnd.dev.sigstore.bundle+json;version=0.3',
        ]),
      );
      const blobStore = registry.requests.filter((r) => r.origin === 'blob-store');
      expect(blobStore.length).toBeGreaterThan(0);
      expect(blobStore.every((r) => r.authorization === undefined)).toBe(true);
    });
  });

  describe('when the signature is a Sigstore bundle with the early media type spelling', () => {
    it('answers trusted with the release metadata of the in-toto subject', async () => {
      const verdict = expectVerdict(await signer.verify(earlyBundle.scannerDigest), {
        trusted: true,
        reason: null,
        source: 'referrers-api',
      });
      expect(verdict).toMatchObject({
        release: { version: '1.4.3' },
        signatures: [{ kind: 'sigstore-bundle', verified: true }],
      });
    });
  });

  describe('when the image has a referrer and a legacy .sig signature', () => {
    it('counts both', async () => {
      const verdict = expectVerdict(await signer.verify(mixed.scannerDigest), {
        trusted: true,
        reason: null,
        source: 'referrers-api',
      });
      expect(verdict.signatures).toHaveLength(2);
    });
  });

  describe.each([
    ['a referrer manifest whose bytes do not match its digest', () => lying, 'malformed_manifest'],
    ['only a bundle by an untrusted Ed25519 key', () => stranger, 'untrusted_key'],
  ])('when the image has %s', (_label, which, reason) => {
    it(`reports ${reason} and refuses to sign with 403 release_untrusted`, async () => {
      const digest = which().scannerDigest;
      expectVerdict(await signer.verify(digest), { trusted: false, reason, source: 'referrers-api' });
      expectProblem(await signer.sign(digest), 403, 'release_untrusted');
    });
  });

  describe('when many checks of one uncached digest arrive at once', () => {
    it('walks the registry once for all of them', async () => {
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => signer.verify(concurrent.scannerDigest)),
      );
      for (const answer of answers) {
        expectVerdict(answer, { trusted: true, reason: null, source: 'referrers-api' });
      }
      const walks = registry.requests.filter((r) =>
        r.path.includes(`/referrers/${concurrent.scannerDigest}`),
      );
      expect(walks).toHaveLength(3); // one per signature artifact type
    });
  });

  describe('when two replicas share the verdict cache in Redis', () => {
    const prefix = `signer-release-e2e-${randomUUID()}:`;
    const replicas: RegistryHarness[] = [];
    const redisEnv = {
      SIGNER__RELEASEINTEGRITY__TIMEOUTMS: '1500',
      SIGNER__QUOTAS__STORE: 'redis',
      SIGNER__QUOTAS__REDISURL: 'redis://127.0.0.1:6379',
      SIGNER__QUOTAS__REDISKEYPREFIX: JSON.stringify(prefix), // quoted: the value is read as YAML
    };

    beforeAll(async () => {
      for (let i = 0; i < 2; i += 1) {
        replicas.push(
          await startRegistryHarness({
            registryUrl: registry.baseUrl,
            trustedKeys: [trustedKey],
            registryAuth: { [new URL(registry.baseUrl).host]: CREDENTIALS },
            env: redisEnv,
          }),
        );
      }
    });

    afterAll(async () => {
      registry.fault = 'none';
      for (const replica of replicas) await replica.close();
      const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
      await redis.connect();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    });

    it('serves the verdict one replica found from the other, without a registry round trip', async () => {
      expectVerdict(await replicas[0].verify(shared.scannerDigest), {
        trusted: true,
        reason: null,
        source: 'referrers-api',
      });
      registry.fault = 'error-500';
      const before = registry.requests.length;
      expect((await replicas[1].sign(shared.scannerDigest)).statusCode).toBe(200);
      expect(registry.requests.length).toBe(before);
    });
  });

  describe.each([
    ['answers 500', 'error-500' as const],
    ['does not answer before timeoutMs', 'hang' as const],
  ])('when the registry %s', (_label, fault) => {
    beforeAll(() => {
      registry.fault = fault;
    });
    afterAll(() => {
      registry.fault = 'none';
    });

    it('answers 503 upstream_unavailable on /sign/dsse and /verify/referrers', async () => {
      expectProblem(await signer.sign(failing.scannerDigest), 503, 'upstream_unavailable');
      expectProblem(await signer.verify(failing.scannerDigest), 503, 'upstream_unavailable');
    });

    it('keeps answering from the verdicts it already has', async () => {
      expect((await signer.sign(trusted.scannerDigest)).statusCode).toBe(200);
    });
  });
});
