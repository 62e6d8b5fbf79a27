import { afterEach, describe, expect, it } from '@jest/globals';
import { SignerError } from '@signer/core';
import { generateReleaseKey } from '@signer/dev';
import {
  buildRegistryRelease,
  ReferrersRegistry,
  type PublishedSignatureOptions,
  type ReferrersRegistryOptions,
  type RegistryRelease,
} from '@signer/testing';
import { parseTrustedKeys } from '../trusted-keys/trusted-keys';
import { RegistryReleaseVerifier, type RegistryReleaseVerifierOptions } from './registry-release-verifier';

const key = generateReleaseKey('ecdsa-p256');
const trustedKeys = parseTrustedKeys(key.publicKeyPem, 'release');

describe('RegistryReleaseVerifier', () => {
  let registry: ReferrersRegistry | undefined;
  afterEach(async () => {
    await registry?.close();
    registry = undefined;
  });

  async function serve(
    signatures: PublishedSignatureOptions[],
    options: ReferrersRegistryOptions = {},
  ): Promise<{ release: RegistryRelease; registry: ReferrersRegistry }> {
    registry = await ReferrersRegistry.start(options);
    const release = buildRegistryRelease({ signatures });
    registry.add(release);
    return { release, registry };
  }

  function verifier(server: ReferrersRegistry, options: Partial<RegistryReleaseVerifierOptions> = {}) {
    return new RegistryReleaseVerifier({
      registryUrl: server.baseUrl,
      scannerRepository: 'registry.stella-ops.local/stella-ops/scanner',
      trustedKeys,
      timeoutMs: 2000,
      ...options,
    });
  }

  describe('when the registry has the Referrers API', () => {
    it('is trusted from cosign, bundle and legacy signatures alike, with source referrers-api', async () => {
      const { release, registry: server } = await serve([
        { key },
        { key, format: 'bundle-dsse' },
        { key, placement: 'legacy-sig' },
      ]);
      const verdict = await verifier(server).verify(release.scannerDigest);
      expect(verdict).toMatchObject({
        trusted: true,
        source: 'referrers-api',
        reason: null,
        release: { version: '1.4.2', created: '2025-06-01T00:00:00Z' },
      });
      expect(verdict.signatures.map((s) => s.kind).sort()).toEqual(['cosign', 'cosign', 'sigstore-bundle']);
    });

    it('verifies a message-signature bundle over the image manifest it fetches', async () => {
      const { release, registry: server } = await serve([{ key, format: 'bundle-message' }]);
      expect(await verifier(server).verify(release.scannerDigest)).toMatchObject({
        trusted: true,
        release: {},
      });
      expect(server.requests.map((r) => r.path)).toContain(
        `/v2/stella-ops/scanner/manifests/${release.scannerDigest}`,
      );
    });

    it('counts a signature without metadata as disagreeing with one that has it', async () => {
      const { release, registry: server } = await serve([{ key }, { key, format: 'bundle-message' }]);
      expect(await verifier(server).verify(release.scannerDigest)).toMatchObject({
        trusted: false,
        reason: 'conflicting_metadata',
      });
    });

    it('follows paginated listings and filters them itself when the registry does not', async () => {
      const { release, registry: server } = await serve([{ key }, { key }, { key, format: 'bundle-dsse' }], {
        applyFilters: false,
        pageSize: 1,
      });
      const verdict = await verifier(server).verify(release.scannerDigest);
      expect(verdict.signatures).toHaveLength(3);
      expect(verdict.trusted).toBe(true);
    });
  });

  describe('when the registry has no Referrers API', () => {
    it('reads the tag-schema index, with source tag-schema', async () => {
      const { release, registry: server } = await serve([{ key }], { referrersApi: false });
      expect(await verifier(server).verify(release.scannerDigest)).toMatchObject({
        trusted: true,
        source: 'tag-schema',
      });
      expect(server.requests.map((r) => r.path)).toContain(
        `/v2/stella-ops/scanner/manifests/${release.scannerDigest.replace(':', '-')}`,
      );
    });
  });

  describe('when an image lists more signature manifests than maxSignatures', () => {
    it('is not trusted: registry_error', async () => {
      const { release, registry: server } = await serve([{ key }, { key }, { key }]);
      expect(await verifier(server, { maxSignatures: 2 }).verify(release.scannerDigest)).toMatchObject({
        trusted: false,
        reason: 'registry_error',
        release: null,
      });
    });
  });

  describe('when the registry refuses the Signer', () => {
    it('is not trusted: registry_error', async () => {
      const { release, registry: server } = await serve([{ key }], { auth: { token: 'expected' } });
      expect(
        await verifier(server, { credential: { token: 'other' } }).verify(release.scannerDigest),
      ).toMatchObject({ trusted: false, reason: 'registry_error', source: 'referrers-api' });
    });
  });

  describe('when the registry fails in the middle of the walk', () => {
    it('throws upstream_unavailable instead of deciding on partial evidence', async () => {
      const { release, registry: server } = await serve([{ key }, { key, version: '9.9.9' }]);
      server.fault = 'error-500';
      server.faultPath = /\/blobs\//;
      const error = await verifier(server)
        .verify(release.scannerDigest)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SignerError);
      expect(error).toMatchObject({
        code: 'upstream_unavailable',
        upstream: 'registry',
        retryAfterSeconds: 5,
      });
    });
  });

  describe('when the registry does not answer before timeoutMs', () => {
    it('throws upstream_unavailable', async () => {
      const { release, registry: server } = await serve([{ key }]);
      server.fault = 'hang';
      await expect(verifier(server, { timeoutMs: 200 }).verify(release.scannerDigest)).rejects.toMatchObject({
        code: 'upstream_unavailable',
      });
    });
  });

  describe('when nothing listens at registryUrl', () => {
    it('throws upstream_unavailable', async () => {
      const { release, registry: server } = await serve([{ key }]);
      await server.close();
      registry = undefined;
      await expect(verifier(server).verify(release.scannerDigest)).rejects.toMatchObject({
        code: 'upstream_unavailable',
      });
    });
  });

  describe('when constructed without trusted keys', () => {
    it('throws SignerError internal_error', () => {
      expect(
        () =>
          new RegistryReleaseVerifier({
            registryUrl: 'http://127.0.0.1:1',
            scannerRepository: 'r.example/scanner',
            trustedKeys: [],
          }),
      ).toThrow(expect.objectContaining({ code: 'internal_error' }));
    });
  });
});
