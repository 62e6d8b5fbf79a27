import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  COSIGN_SIGNATURE_ANNOTATION,
  COSIGN_SIGNATURE_ARTIFACT,
  COSIGN_SIMPLE_SIGNING,
  OCI_EMPTY,
  OCI_REF_NAME,
} from './media-types';
import { blobPath, type OciDescriptor } from './oci-layout';
import { generateReleaseKey, type ReleaseKeyKind } from './release-keys';
import { buildScannerRelease, type ScannerRelease } from './scanner-release';

interface Manifest {
  artifactType?: string;
  config: OciDescriptor;
  layers?: OciDescriptor[];
  subject?: OciDescriptor;
}

interface Index {
  manifests: OciDescriptor[];
}

const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
// What each key kind hashes with when cosign signs (sigstore algorithm registry defaults).
const HASH: Record<ReleaseKeyKind, string | null> = {
  'ecdsa-p256': 'sha256',
  'ecdsa-p384': 'sha384',
  ed25519: null,
  rsa: 'sha256',
};

function readBlob(release: ScannerRelease, digest: string): Buffer {
  return readFileSync(blobPath(release.layoutPath, digest));
}

function readJson<T>(release: ScannerRelease, digest: string): T {
  return JSON.parse(readBlob(release, digest).toString('utf8')) as T;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

describe('buildScannerRelease', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'scanner-release-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('when signed by one P-256 key', () => {
    const key = generateReleaseKey('ecdsa-p256');
    let release: ScannerRelease;
    beforeEach(() => {
      release = buildScannerRelease({ dir, signatures: [{ key }] });
    });

    it('writes an OCI image layout marker and an index naming the image by tag', () => {
      expect(readFileSync(join(dir, 'oci-layout'), 'utf8')).toBe('{"imageLayoutVersion":"1.0.0"}');
      const index = JSON.parse(readFileSync(release.indexPath, 'utf8')) as Index;
      expect(index.manifests).toContainEqual({
        ...release.scannerManifest,
        annotations: { [OCI_REF_NAME]: release.version },
      });
      expect(index.manifests).toContainEqual(release.signatures[0].manifest);
    });

    it('stores every blob under its own sha256', () => {
      const names = readdirSync(join(dir, 'blobs', 'sha256'));
      for (const name of names) expect(sha256(readBlob(release, `sha256:${name}`))).toBe(`sha256:${name}`);
      expect(names.length).toBeGreaterThanOrEqual(6);
    });

    it('writes a cosign signature manifest with the empty config and the image as subject', () => {
      const manifest = readJson<Manifest>(release, release.signatures[0].manifestDigest);
      expect(manifest.artifactType).toBe(COSIGN_SIGNATURE_ARTIFACT);
      expect(manifest.config).toEqual({ mediaType: OCI_EMPTY, digest: EMPTY_JSON_DIGEST, size: 2 });
      expect(manifest.subject).toEqual(release.scannerManifest);
      expect(manifest.layers).toHaveLength(1);
      expect(manifest.layers?.[0].mediaType).toBe(COSIGN_SIMPLE_SIGNING);
    });

    it('signs a simple-signing payload naming the image digest and the release metadata', () => {
      const payload = JSON.parse(release.signatures[0].payload.toString('utf8')) as unknown;
      expect(payload).toEqual({
        critical: {
          identity: { 'docker-reference': release.repository },
          image: { 'docker-manifest-digest': release.scannerDigest },
          type: 'cosign container image signature',
        },
        optional: {
          'org.opencontainers.image.version': release.version,
          'org.opencontainers.image.created': release.created,
        },
      });
    });
  });

  describe.each<ReleaseKeyKind>(['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa'])(
    'when signed by a %s key',
    (kind) => {
      it('produces a signature that node:crypto verifies from the files alone', () => {
        const key = generateReleaseKey(kind);
        const release = buildScannerRelease({ dir, signatures: [{ key }] });
        const manifest = readJson<Manifest>(release, release.signatures[0].manifestDigest);
        const layer = (manifest.layers ?? [])[0];
        const payload = readBlob(release, layer.digest);
        const signature = Buffer.from(layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION] ?? '', 'base64');
        expect(sha256(payload)).toBe(layer.digest);
        expect(verify(HASH[kind], payload, key.publicKeyPem, signature)).toBe(true);
        expect(verify(HASH[kind], payload, generateReleaseKey(kind).publicKeyPem, signature)).toBe(false);
      });
    },
  );

  describe('when built twice from the same inputs without signatures', () => {
    it('writes byte-identical indexes', () => {
      const first = buildScannerRelease({ dir: join(dir, 'a') });
      const second = buildScannerRelease({ dir: join(dir, 'b') });
      expect(readFileSync(second.indexPath)).toEqual(readFileSync(first.indexPath));
      expect(second.signatures).toEqual([]);
    });
  });

  describe('when referrers are listed with the tag schema', () => {
    it('lists the signatures in a nested index tagged sha256-<hex>', () => {
      const release = buildScannerRelease({
        dir,
        referrers: 'tag-schema',
        signatures: [{ key: generateReleaseKey() }],
      });
      const index = JSON.parse(readFileSync(release.indexPath, 'utf8')) as Index;
      const tagged = index.manifests.find(
        (d) => d.annotations?.[OCI_REF_NAME] === release.scannerDigest.replace(':', '-'),
      );
      expect(tagged).toBeDefined();
      expect(readJson<Index>(release, tagged?.digest ?? '').manifests).toEqual([
        release.signatures[0].manifest,
      ]);
    });
  });

  describe('when a blob is corrupted on purpose', () => {
    it.each(['corrupt-manifest-blob', 'corrupt-payload-blob'] as const)(
      '%s leaves bytes that miss their digest',
      (defect) => {
        const release = buildScannerRelease({ dir, signatures: [{ key: generateReleaseKey(), defect }] });
        const digest =
          defect === 'corrupt-manifest-blob'
            ? release.signatures[0].manifestDigest
            : release.signatures[0].payloadDigest;
        expect(sha256(readBlob(release, digest))).not.toBe(digest);
      },
    );
  });

  describe('when the manifest is malformed on purpose', () => {
    it('invalid-json-manifest stores bytes that do not parse', () => {
      const release = buildScannerRelease({
        dir,
        signatures: [{ key: generateReleaseKey(), defect: 'invalid-json-manifest' }],
      });
      expect(() => readJson(release, release.signatures[0].manifestDigest)).toThrow(SyntaxError);
    });

    it('missing-layers stores a manifest without layers', () => {
      const release = buildScannerRelease({
        dir,
        signatures: [{ key: generateReleaseKey(), defect: 'missing-layers' }],
      });
      expect(readJson<Manifest>(release, release.signatures[0].manifestDigest).layers).toBeUndefined();
    });
  });
});
