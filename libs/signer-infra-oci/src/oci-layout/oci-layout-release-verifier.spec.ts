import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignerError, type ReleaseVerdict } from '@signer/core';
import {
  buildScannerRelease,
  generateReleaseKey,
  writePublicKeysFile,
  type ReleaseKeyKind,
  type ReleaseSignatureOptions,
  type ScannerReleaseOptions,
} from '@signer/dev';
import { loadTrustedKeys, type TrustedKey } from '../trusted-keys/trusted-keys';
import {
  OciLayoutReleaseVerifier,
  type OciLayoutReleaseVerifierOptions,
} from './oci-layout-release-verifier';

const OTHER_DIGEST = `sha256:${'ab'.repeat(32)}`;
const trustedKey = generateReleaseKey('ecdsa-p256');
const untrustedKey = generateReleaseKey('ecdsa-p256');

describe('OciLayoutReleaseVerifier', () => {
  let dir: string;
  let layoutPath: string;
  let trustedKeys: TrustedKey[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oci-layout-verifier-'));
    layoutPath = join(dir, 'layout');
    trustedKeys = await loadTrustedKeys([writePublicKeysFile(join(dir, 'trusted.pem'), [trustedKey])]);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function verifyRelease(
    signatures: ReleaseSignatureOptions[],
    extra: Partial<ScannerReleaseOptions> = {},
    options: Partial<OciLayoutReleaseVerifierOptions> = {},
  ): Promise<ReleaseVerdict & { expectedDigest: string }> {
    const release = buildScannerRelease({ dir: layoutPath, signatures, ...extra });
    const verifier = new OciLayoutReleaseVerifier({ layoutPath, trustedKeys, ...options });
    return { ...(await verifier.verify(release.scannerDigest)), expectedDigest: release.scannerDigest };
  }

  describe('when the image carries one signature by a trusted key', () => {
    it('is trusted with the signed version and creation time', async () => {
      const verdict = await verifyRelease([
        { key: trustedKey, version: '2.1.0', created: '2025-03-04T05:06:07Z' },
      ]);
      expect(verdict).toMatchObject({
        digest: verdict.expectedDigest,
        trusted: true,
        source: 'oci-layout',
        reason: null,
        release: { version: '2.1.0', created: '2025-03-04T05:06:07Z' },
      });
    });

    it('reports the signature as verified with the trusted key id', async () => {
      const verdict = await verifyRelease([{ key: trustedKey }]);
      expect(verdict.signatures).toEqual([
        {
          kind: 'cosign',
          manifestDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
          keyId: trustedKeys[0].keyId,
          verified: true,
          metadata: { version: '1.4.2', created: '2025-06-01T00:00:00Z' },
        },
      ]);
    });
  });

  describe('when the signatures are listed in a tag-schema index', () => {
    it('follows the nested index and is trusted', async () => {
      const verdict = await verifyRelease([{ key: trustedKey }], { referrers: 'tag-schema' });
      expect(verdict.trusted).toBe(true);
    });
  });

  describe('when metadata appears only outside the signed payload', () => {
    it('reports no release metadata', async () => {
      const verdict = await verifyRelease([
        {
          key: trustedKey,
          version: null,
          created: null,
          unsignedAnnotations: { 'org.opencontainers.image.version': '9.9.9' },
        },
      ]);
      expect(verdict).toMatchObject({ trusted: true, release: {} });
    });
  });

  describe('when the layout holds Sigstore bundle signatures', () => {
    it.each(['bundle-dsse', 'bundle-message'] as const)(
      'is trusted from a %s bundle by a trusted key',
      async (format) => {
        const verdict = await verifyRelease([{ key: trustedKey, format }]);
        expect(verdict).toMatchObject({
          trusted: true,
          source: 'oci-layout',
          signatures: [{ kind: 'sigstore-bundle', verified: true, keyId: trustedKeys[0].keyId }],
        });
      },
    );

    it('takes the release metadata of a DSSE bundle from its signed in-toto subject', async () => {
      const verdict = await verifyRelease([{ key: trustedKey, format: 'bundle-dsse', version: '1.4.2' }]);
      expect(verdict.release).toEqual({ version: '1.4.2', created: '2025-06-01T00:00:00Z' });
    });

    it('is not trusted when the bundle is by an untrusted key: untrusted_key', async () => {
      expect(await verifyRelease([{ key: untrustedKey, format: 'bundle-dsse' }])).toMatchObject({
        trusted: false,
        reason: 'untrusted_key',
      });
    });
  });

  describe('when the image has no signatures', () => {
    it('is not trusted: no_signatures', async () => {
      expect(await verifyRelease([])).toMatchObject({
        trusted: false,
        reason: 'no_signatures',
        signatures: [],
      });
    });
  });

  describe('when the only signature is by an untrusted key', () => {
    it('is not trusted: untrusted_key', async () => {
      const verdict = await verifyRelease([{ key: untrustedKey }]);
      expect(verdict).toMatchObject({ trusted: false, reason: 'untrusted_key', release: null });
      expect(verdict.signatures[0]).toMatchObject({ verified: false, problem: 'untrusted_key' });
      expect(verdict.signatures[0].keyId).toBeUndefined();
    });
  });

  describe('when an untrusted signature sits next to a trusted one', () => {
    it('is trusted', async () => {
      const verdict = await verifyRelease([{ key: untrustedKey, version: '6.6.6' }, { key: trustedKey }]);
      expect(verdict).toMatchObject({ trusted: true, release: { version: '1.4.2' } });
      expect(verdict.signatures).toHaveLength(2);
    });
  });

  describe('when the trusted payload names another digest', () => {
    it('is not trusted: digest_mismatch', async () => {
      const verdict = await verifyRelease([{ key: trustedKey, payloadDigest: OTHER_DIGEST }]);
      expect(verdict).toMatchObject({ trusted: false, reason: 'digest_mismatch' });
      expect(verdict.signatures[0]).toMatchObject({
        problem: 'digest_mismatch',
        keyId: trustedKeys[0].keyId,
      });
    });
  });

  describe('when two trusted signatures disagree on the version', () => {
    it('is not trusted: conflicting_metadata', async () => {
      const verdict = await verifyRelease([
        { key: trustedKey, version: '1.4.2' },
        { key: trustedKey, version: '1.5.0' },
      ]);
      expect(verdict).toMatchObject({ trusted: false, reason: 'conflicting_metadata', release: null });
    });
  });

  describe.each([
    'corrupt-manifest-blob',
    'corrupt-payload-blob',
    'invalid-json-manifest',
    'missing-layers',
    'missing-signature-annotation',
  ] as const)('when the trusted signature is damaged (%s)', (defect) => {
    it('is not trusted: malformed_manifest', async () => {
      const verdict = await verifyRelease([{ key: trustedKey, defect }]);
      expect(verdict).toMatchObject({ trusted: false, reason: 'malformed_manifest' });
      expect(verdict.signatures).toEqual([
        expect.objectContaining({ verified: false, problem: 'malformed_manifest' }),
      ]);
    });
  });

  describe('when the signature payload exceeds maxLayerBytes', () => {
    it('is not trusted: malformed_manifest', async () => {
      const verdict = await verifyRelease([{ key: trustedKey }], {}, { maxLayerBytes: 64 });
      expect(verdict).toMatchObject({ trusted: false, reason: 'malformed_manifest' });
    });
  });

  describe('when the signature manifest exceeds maxManifestBytes', () => {
    it('is not trusted: malformed_manifest', async () => {
      const padding = { 'org.example.padding': 'x'.repeat(8192) };
      const verdict = await verifyRelease(
        [{ key: trustedKey, unsignedAnnotations: padding }],
        {},
        { maxManifestBytes: 4096 },
      );
      expect(verdict).toMatchObject({ trusted: false, reason: 'malformed_manifest' });
    });
  });

  describe('when index.json lists a descriptor whose digest is a path', () => {
    it('ignores it instead of reading outside the layout', async () => {
      const release = buildScannerRelease({ dir: layoutPath });
      const index = JSON.parse(readFileSync(release.indexPath, 'utf8')) as { manifests: unknown[] };
      index.manifests.push({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
        digest: 'sha256:../../trusted.pem',
        size: 10,
      });
      writeFileSync(release.indexPath, JSON.stringify(index));
      const verdict = await new OciLayoutReleaseVerifier({ layoutPath, trustedKeys }).verify(
        release.scannerDigest,
      );
      expect(verdict).toMatchObject({ trusted: false, reason: 'no_signatures' });
    });
  });

  describe.each<ReleaseKeyKind>(['ed25519', 'ecdsa-p384', 'rsa'])('when the release key is %s', (kind) => {
    it('is trusted with that key id', async () => {
      const key = generateReleaseKey(kind);
      trustedKeys = await loadTrustedKeys([writePublicKeysFile(join(dir, `${kind}.pem`), [trustedKey, key])]);
      const verdict = await verifyRelease([{ key }]);
      const keyId = trustedKeys.find((k) => k.publicKeyPem === key.publicKeyPem)?.keyId;
      expect(verdict).toMatchObject({ trusted: true, signatures: [{ keyId, verified: true }] });
      expect(keyId).toBeDefined();
    });
  });

  describe('when the layout directory does not exist', () => {
    it('throws SignerError upstream_unavailable for the registry', async () => {
      const verifier = new OciLayoutReleaseVerifier({ layoutPath: join(dir, 'missing'), trustedKeys });
      const error = await verifier.verify(OTHER_DIGEST).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SignerError);
      expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'registry' });
    });
  });

  describe('when index.json is missing or not an index', () => {
    it.each([
      ['missing', null],
      ['invalid JSON', '{"manifests":'],
      ['not an index', '{"schemaVersion":2}'],
    ])('throws upstream_unavailable (%s)', async (_label, content) => {
      const release = buildScannerRelease({ dir: layoutPath, signatures: [{ key: trustedKey }] });
      if (content === null) rmSync(release.indexPath);
      else writeFileSync(release.indexPath, content);
      const verifier = new OciLayoutReleaseVerifier({ layoutPath, trustedKeys });
      await expect(verifier.verify(release.scannerDigest)).rejects.toMatchObject({
        code: 'upstream_unavailable',
      });
    });
  });

  describe('when index.json exceeds maxManifestBytes', () => {
    it('throws upstream_unavailable', async () => {
      await expect(verifyRelease([{ key: trustedKey }], {}, { maxManifestBytes: 32 })).rejects.toMatchObject({
        code: 'upstream_unavailable',
      });
    });
  });

  describe('when constructed without trusted keys', () => {
    it('throws SignerError internal_error', () => {
      const construct = () => new OciLayoutReleaseVerifier({ layoutPath, trustedKeys: [] });
      expect(construct).toThrow(SignerError);
      expect(construct).toThrow(expect.objectContaining({ code: 'internal_error' }));
    });
  });
});
