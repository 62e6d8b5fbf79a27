import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_V03_MEDIA_TYPE, bundleFromJSON, bundleToJSON, toDSSEBundle } from '@sigstore/bundle';
import {
  dsseEnvelope,
  SIGSTORE_BUNDLE_MEDIA_TYPE,
  SigstoreDsseBundleEncoder,
  type SignatureResult,
} from '@signer/core';

// The core's encoder writes the bundle JSON itself, and the core's specs import no SDK; here, where
// tests may, @sigstore/bundle's own encoding is the oracle.
const payloadType = 'application/vnd.in-toto+json';
const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
const sig = Buffer.from('3045022100aa', 'hex');
const leafPem = readFileSync(join(__dirname, 'fixtures/keyless-leaf.pem'), 'utf8');

describe('SigstoreDsseBundleEncoder against @sigstore/bundle', () => {
  const encoder = new SigstoreDsseBundleEncoder();

  describe('when the media types are compared', () => {
    it("is the library's v0.3 bundle media type", () => {
      expect(SIGSTORE_BUNDLE_MEDIA_TYPE).toBe(BUNDLE_V03_MEDIA_TYPE);
    });
  });

  describe('when compared with @sigstore/bundle (toDSSEBundle + bundleToJSON)', () => {
    const keyful: SignatureResult = { signature: sig, dsseKeyId: 'dev', identity: { keyId: 'dev' } };
    const keyless: SignatureResult = {
      signature: sig,
      dsseKeyId: 'fingerprint',
      identity: { keyId: 'fingerprint' },
      certificateChain: [leafPem],
    };
    const library = (keyHint: string, certificate?: Buffer): unknown =>
      bundleToJSON(
        toDSSEBundle({
          artifact: payload,
          artifactType: payloadType,
          signature: sig,
          keyHint,
          certificate,
          certificateChain: false,
        }),
      );

    it('gives the same JSON for a named key', () => {
      const bundle = encoder.encode(dsseEnvelope(payloadType, payload, 'dev', sig), keyful);
      expect(bundle).toStrictEqual(library('dev'));
      expect(bundleToJSON(bundleFromJSON(bundle))).toStrictEqual(bundle);
    });

    it('gives the same JSON for a keyless leaf, also when the leaf is reused', () => {
      const der = new X509Certificate(leafPem).raw;
      for (let round = 0; round < 2; round += 1) {
        const bundle = encoder.encode(dsseEnvelope(payloadType, payload, 'fingerprint', sig), keyless);
        expect(bundle).toStrictEqual(library('fingerprint', der));
        expect(bundleToJSON(bundleFromJSON(bundle))).toStrictEqual(bundle);
      }
    });

    it('gives the same JSON when the key id is empty (protobuf JSON omits empty strings)', () => {
      const anonymous: SignatureResult = { ...keyful, dsseKeyId: '', identity: { keyId: '' } };
      const bundle = encoder.encode(dsseEnvelope(payloadType, payload, '', sig), anonymous);
      expect(bundle).toStrictEqual(library(''));
    });
  });
});
