import { describe, expect, it } from '@jest/globals';
import { createHash, createPublicKey } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { canonicalBytes, preAuthEncoding } from '@signer/core';
import {
  EMPTY_TRUSTED_ROOT_JSON,
  KEYED_BUNDLE_VERIFIER_OPTIONS,
  verifySigstoreBundleWithKey,
} from '@signer/client';
import {
  generateReleaseKey,
  signWithReleaseKey,
  sigstoreBundle,
  SIGSTORE_BUNDLE_V03,
  SIGSTORE_BUNDLE_V03_EARLY,
  type BundleSignatureOptions,
  type ReleaseKeyKind,
} from '@signer/dev';
import type { ManifestView } from '../oci/descriptor';
import { parseTrustedKeys } from '../trusted-keys/trusted-keys';
import { bundleEvidence } from './bundle-evidence';

const IMAGE_BYTES = Buffer.from(
  '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}',
);
const IMAGE = `sha256:${createHash('sha256').update(IMAGE_BYTES).digest('hex')}`;
const MANIFEST = `sha256:${'34'.repeat(32)}`;
const OTHER = `sha256:${'ef'.repeat(32)}`;
const key = generateReleaseKey('ecdsa-p256');
const trustedKeys = parseTrustedKeys(key.publicKeyPem, 'test');

function options(overrides: Partial<BundleSignatureOptions> = {}): BundleSignatureOptions {
  return {
    key,
    subject: {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: IMAGE,
      size: IMAGE_BYTES.length,
    },
    subjectBytes: IMAGE_BYTES,
    claims: {
      repository: 'r.example/scanner',
      digest: IMAGE,
      version: '2.4.1',
      created: '2026-06-01T00:00:00Z',
    },
    ...overrides,
  };
}

async function check(bundle: unknown, layerType = SIGSTORE_BUNDLE_V03, keys = trustedKeys) {
  const bytes = Buffer.from(JSON.stringify(bundle));
  const layer = { mediaType: layerType, digest: `sha256:${'56'.repeat(32)}`, size: bytes.length };
  const manifest: ManifestView = { artifactType: layerType, subjectDigest: IMAGE, layers: [layer] };
  return bundleEvidence(manifest, {
    digest: IMAGE,
    manifestDigest: MANIFEST,
    trustedKeys: keys,
    readLayer: async () => ({ bytes, intact: true }),
    readSubject: async () => IMAGE_BYTES,
  });
}

function dsseBundle(
  statement: unknown,
  payloadType = 'application/vnd.in-toto+json',
): Record<string, unknown> {
  const payload = canonicalBytes(statement);
  const signature = signWithReleaseKey(key, preAuthEncoding(payloadType, payload));
  return {
    mediaType: SIGSTORE_BUNDLE_V03,
    verificationMaterial: { publicKey: { hint: 'k' } },
    dsseEnvelope: {
      payload: payload.toString('base64'),
      payloadType,
      signatures: [{ sig: signature.toString('base64') }],
    },
  };
}

describe('bundleEvidence', () => {
  describe.each<ReleaseKeyKind>(['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa'])(
    'when a %s release key signed a DSSE bundle over the image',
    (kind) => {
      it('is verified with the in-toto subject annotations as release metadata', async () => {
        const signer = generateReleaseKey(kind);
        const keys = parseTrustedKeys(signer.publicKeyPem, kind);
        expect(await check(sigstoreBundle(options({ key: signer })), SIGSTORE_BUNDLE_V03, keys)).toEqual([
          {
            kind: 'sigstore-bundle',
            manifestDigest: MANIFEST,
            keyId: keys[0].keyId,
            verified: true,
            metadata: { version: '2.4.1', created: '2026-06-01T00:00:00Z' },
          },
        ]);
      });
    },
  );

  describe.each<ReleaseKeyKind>(['ecdsa-p256', 'ed25519'])(
    'when the fixture is checked independently (%s)',
    (kind) => {
      it('@sigstore/verify accepts the DSSE bundle with only the release key trusted', async () => {
        const signer = generateReleaseKey(kind);
        const bundle = sigstoreBundle(options({ key: signer, keyHint: 'release' }));
        await expect(
          verifySigstoreBundleWithKey(bundle, { keyHint: 'release', publicKeyPem: signer.publicKeyPem }),
        ).resolves.toBeUndefined();
      });
    },
  );

  describe('when the bundle is a message signature over the image manifest', () => {
    const bundle = sigstoreBundle(options({ content: 'message', keyHint: 'release' }));

    it('is verified, without release metadata', async () => {
      expect(await check(bundle)).toEqual([
        {
          kind: 'sigstore-bundle',
          manifestDigest: MANIFEST,
          keyId: trustedKeys[0].keyId,
          verified: true,
          metadata: {},
        },
      ]);
    });

    it('@sigstore/verify accepts it against the manifest bytes', () => {
      const trust = toTrustMaterial(TrustedRoot.fromJSON(EMPTY_TRUSTED_ROOT_JSON), {
        release: {
          rawBytes: createPublicKey(key.publicKeyPem).export({ type: 'spki', format: 'der' }),
          keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
        },
      });
      const verifier = new Verifier(trust, KEYED_BUNDLE_VERIFIER_OPTIONS);
      expect(() => verifier.verify(toSignedEntity(bundleFromJSON(bundle), IMAGE_BYTES))).not.toThrow();
      expect(() => verifier.verify(toSignedEntity(bundleFromJSON(bundle), Buffer.from('other')))).toThrow();
    });

    it('reports digest_mismatch when its digest names another image', async () => {
      const lying = sigstoreBundle(
        options({ content: 'message', claims: { ...options().claims, digest: OTHER } }),
      );
      expect(await check(lying)).toEqual([
        { kind: 'sigstore-bundle', manifestDigest: MANIFEST, verified: false, problem: 'digest_mismatch' },
      ]);
    });
  });

  describe('when the bundle uses the early media type spelling', () => {
    it('is verified', async () => {
      const bundle = sigstoreBundle(options({ mediaType: SIGSTORE_BUNDLE_V03_EARLY }));
      expect((await check(bundle, SIGSTORE_BUNDLE_V03_EARLY))[0]).toMatchObject({ verified: true });
    });
  });

  describe('when the signature does not verify with a trusted key', () => {
    it('reports untrusted_key without a key id', async () => {
      const bundle = sigstoreBundle(options({ key: generateReleaseKey('ecdsa-p256') }));
      expect(await check(bundle)).toEqual([
        { kind: 'sigstore-bundle', manifestDigest: MANIFEST, verified: false, problem: 'untrusted_key' },
      ]);
    });
  });

  describe('when a trusted key signed a statement about another image', () => {
    it('reports digest_mismatch with the key id', async () => {
      const bundle = sigstoreBundle(options({ claims: { ...options().claims, digest: OTHER } }));
      expect((await check(bundle))[0]).toMatchObject({
        problem: 'digest_mismatch',
        keyId: trustedKeys[0].keyId,
      });
    });
  });

  describe('when the trusted content is not a usable release statement', () => {
    const subject = { name: 'r', digest: { sha256: IMAGE.slice(7) } };
    it.each([
      [
        'another payload type',
        dsseBundle({ _type: 'https://in-toto.io/Statement/v1', subject: [subject] }, 'text/plain'),
      ],
      ['not an in-toto statement', dsseBundle({ _type: 'https://example/other', subject: [subject] })],
      ['no subject list', dsseBundle({ _type: 'https://in-toto.io/Statement/v1' })],
      [
        'a non-string version',
        dsseBundle({
          _type: 'https://in-toto.io/Statement/v1',
          subject: [{ ...subject, annotations: { 'org.opencontainers.image.version': 2 } }],
        }),
      ],
    ])('reports malformed_manifest with the key id (%s)', async (_label, bundle) => {
      expect((await check(bundle))[0]).toMatchObject({
        problem: 'malformed_manifest',
        keyId: trustedKeys[0].keyId,
      });
    });
  });

  describe('when the bundle itself is broken', () => {
    const good = sigstoreBundle(options());
    it.each([
      ['another media type', { ...good, mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1' }],
      ['no verification material', { ...good, verificationMaterial: undefined }],
      ['both DSSE and message content', { ...good, messageSignature: { signature: 'AAAA' } }],
      [
        'junk base64 in the payload',
        { ...good, dsseEnvelope: { ...(good.dsseEnvelope as object), payload: '!!' } },
      ],
      ['no signatures', { ...good, dsseEnvelope: { ...(good.dsseEnvelope as object), signatures: [] } }],
      ['not JSON', 'not json'],
    ])('reports malformed_manifest (%s)', async (_label, bundle) => {
      expect(await check(bundle)).toEqual([
        { kind: 'sigstore-bundle', manifestDigest: MANIFEST, verified: false, problem: 'malformed_manifest' },
      ]);
    });
  });
});
