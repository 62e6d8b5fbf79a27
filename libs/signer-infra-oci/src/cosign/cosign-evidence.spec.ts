import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { generateReleaseKey, signWithReleaseKey, simpleSigningPayload } from '@signer/dev';
import type { ManifestView } from '../oci/descriptor';
import { parseTrustedKeys } from '../trusted-keys/trusted-keys';
import { cosignEvidence, type CosignCheckOptions } from './cosign-evidence';

const IMAGE = `sha256:${'12'.repeat(32)}`;
const MANIFEST = `sha256:${'34'.repeat(32)}`;
const key = generateReleaseKey('ecdsa-p256');
const trustedKeys = parseTrustedKeys(key.publicKeyPem, 'test');

function layerFor(bytes: Buffer, signature: string): unknown {
  return {
    mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    size: bytes.length,
    annotations: { 'dev.cosignproject.cosign/signature': signature },
  };
}

function check(layers: unknown[], bytes: Buffer): ReturnType<typeof cosignEvidence> {
  const manifest: ManifestView = {
    artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
    subjectDigest: IMAGE,
    layers,
  };
  const options: CosignCheckOptions = {
    digest: IMAGE,
    manifestDigest: MANIFEST,
    trustedKeys,
    readPayload: async () => ({ bytes, intact: true }),
  };
  return cosignEvidence(manifest, options);
}

describe('cosignEvidence', () => {
  describe('when the signature annotation is not canonical base64', () => {
    it('reports malformed_manifest', async () => {
      const bytes = simpleSigningPayload({ repository: 'r', digest: IMAGE, version: null, created: null });
      const signature = `${signWithReleaseKey(key, bytes).toString('base64')}!!`;
      expect(await check([layerFor(bytes, signature)], bytes)).toEqual([
        { kind: 'cosign', manifestDigest: MANIFEST, verified: false, problem: 'malformed_manifest' },
      ]);
    });
  });

  describe('when a trusted key signed something that is not a simple-signing payload', () => {
    it('reports malformed_manifest with the key id', async () => {
      const bytes = Buffer.from('{"critical":{"type":"something else"}}');
      const signature = signWithReleaseKey(key, bytes).toString('base64');
      expect(await check([layerFor(bytes, signature)], bytes)).toEqual([
        {
          kind: 'cosign',
          manifestDigest: MANIFEST,
          verified: false,
          problem: 'malformed_manifest',
          keyId: trustedKeys[0].keyId,
        },
      ]);
    });
  });

  describe('when a legacy manifest stacks two signature layers', () => {
    it('reports one evidence entry per layer', async () => {
      const bytes = simpleSigningPayload({ repository: 'r', digest: IMAGE, version: '1.0.0', created: null });
      const good = signWithReleaseKey(key, bytes).toString('base64');
      const stranger = signWithReleaseKey(generateReleaseKey(), bytes).toString('base64');
      const evidence = await check([layerFor(bytes, good), layerFor(bytes, stranger)], bytes);
      expect(evidence.map((e) => e.problem ?? 'verified')).toEqual(['verified', 'untrusted_key']);
    });
  });
});
