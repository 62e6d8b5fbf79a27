import { describe, expect, it } from '@jest/globals';
import { createHash, verify } from 'node:crypto';
import { verifySigstoreBundleWithKey } from '@signer/client';
import { loadReleaseVectors, type ReleaseVector } from '@signer/testing';
import { COSIGN_SIGNATURE_ARTIFACT, COSIGN_SIMPLE_SIGNING, SIGSTORE_BUNDLE_V03 } from '../oci/media-types';
import { parseTrustedKeys } from '../trusted-keys/trusted-keys';
import { signatureEvidence } from './signature-evidence';

const vectors = loadReleaseVectors();
const imageManifest = Buffer.from(vectors.imageManifest, 'base64');
const MANIFEST = `sha256:${'99'.repeat(32)}`;
const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** The vector as the verifier meets it: a signature manifest and the one blob it points at. */
async function evidenceFor(vector: ReleaseVector) {
  const blob =
    vector.format === 'cosign'
      ? Buffer.from(vector.payload ?? '', 'base64')
      : Buffer.from(JSON.stringify(vector.bundle));
  const layer = {
    mediaType: vector.format === 'cosign' ? COSIGN_SIMPLE_SIGNING : SIGSTORE_BUNDLE_V03,
    digest: sha256(blob),
    size: blob.length,
    ...(vector.format === 'cosign'
      ? { annotations: { 'dev.cosignproject.cosign/signature': vector.signature ?? '' } }
      : {}),
  };
  const artifactType = vector.format === 'cosign' ? COSIGN_SIGNATURE_ARTIFACT : SIGSTORE_BUNDLE_V03;
  return signatureEvidence(
    MANIFEST,
    { artifactType, subjectDigest: vectors.scannerDigest, layers: [layer] },
    {
      digest: vectors.scannerDigest,
      trustedKeys: parseTrustedKeys(vector.publicKeyPem, vector.name),
      readLayer: async () => ({ bytes: blob, intact: true }),
      readSubject: async () => imageManifest,
    },
  );
}

describe('release signature interop vectors', () => {
  it('hold a scanner image manifest that hashes to the digest they sign', () => {
    expect(sha256(imageManifest)).toBe(vectors.scannerDigest);
    expect(vectors.vectors.length).toBeGreaterThanOrEqual(8);
  });

  describe.each(vectors.vectors.map((v) => [v.name, v] as const))('vector %s', (_name, vector) => {
    it(`gives ${vector.expect.verified ? 'verified' : vector.expect.problem} evidence`, async () => {
      const [evidence] = (await evidenceFor(vector)) ?? [];
      expect(evidence).toMatchObject({ kind: vector.format, ...vector.expect });
    });

    it('fails with any other trusted key', async () => {
      const other = vectors.vectors.find((v) => v.publicKeyPem !== vector.publicKeyPem);
      const [evidence] = (await evidenceFor({ ...vector, publicKeyPem: other?.publicKeyPem ?? '' })) ?? [];
      expect(evidence).toMatchObject({ verified: false, problem: 'untrusted_key' });
    });
  });

  describe('when checked by independent verifiers', () => {
    const hash: Record<string, string | null> = {
      'ecdsa-p256': 'sha256',
      'ecdsa-p384': 'sha384',
      ed25519: null,
      rsa: 'sha256',
    };
    it.each(vectors.vectors.filter((v) => v.format === 'cosign').map((v) => [v.name, v] as const))(
      'node:crypto verifies the cosign signature of %s',
      (_name, vector) => {
        const payload = Buffer.from(vector.payload ?? '', 'base64');
        const signature = Buffer.from(vector.signature ?? '', 'base64');
        expect(verify(hash[vector.keyKind], payload, vector.publicKeyPem, signature)).toBe(true);
      },
    );

    it.each(
      vectors.vectors
        .filter((v) => v.format === 'sigstore-bundle' && 'dsseEnvelope' in (v.bundle ?? {}))
        .map((v) => [v.name, v] as const),
    )('@sigstore/verify verifies the DSSE bundle of %s', async (name, vector) => {
      await expect(
        verifySigstoreBundleWithKey(vector.bundle, { keyHint: name, publicKeyPem: vector.publicKeyPem }),
      ).resolves.toBeUndefined();
    });
  });
});
