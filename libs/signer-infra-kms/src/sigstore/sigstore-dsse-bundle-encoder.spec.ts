import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON, bundleToJSON, toDSSEBundle } from '@sigstore/bundle';
import { dsseEnvelope, type SignatureResult } from '@signer/core';
import { SIGSTORE_BUNDLE_MEDIA_TYPE, SigstoreDsseBundleEncoder } from './sigstore-dsse-bundle-encoder';

const payloadType = 'application/vnd.in-toto+json';
const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
const sig = Buffer.from('3045022100aa', 'hex');
const leafPem = readFileSync(join(__dirname, '../../test/fixtures/keyless-leaf.pem'), 'utf8');

describe('SigstoreDsseBundleEncoder', () => {
  const encoder = new SigstoreDsseBundleEncoder();

  describe('when the signature comes from a named key', () => {
    const result: SignatureResult = { signature: sig, dsseKeyId: 'dev', identity: { keyId: 'dev' } };
    const bundle = encoder.encode(dsseEnvelope(payloadType, payload, 'dev', sig), result);

    // Protobuf JSON omits empty repeated fields, so "no tlog entries, no timestamps" reads as
    // absent `tlogEntries` and an empty `timestampVerificationData`.
    it('produces a v0.3 bundle with a public-key hint and no tlog entries or timestamps', () => {
      expect(bundle).toEqual({
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        verificationMaterial: { publicKey: { hint: 'dev' }, timestampVerificationData: {} },
        dsseEnvelope: {
          payload: payload.toString('base64'),
          payloadType,
          signatures: [{ sig: sig.toString('base64'), keyid: 'dev' }],
        },
      });
      expect(SIGSTORE_BUNDLE_MEDIA_TYPE).toBe(bundle['mediaType']);
    });
  });

  describe('when the signature is keyless', () => {
    const result: SignatureResult = {
      signature: sig,
      dsseKeyId: 'fingerprint',
      identity: { keyId: 'fingerprint', subject: 'signer@example' },
      certificateChain: [leafPem, leafPem],
    };
    const bundle = encoder.encode(dsseEnvelope(payloadType, payload, 'fingerprint', sig), result);

    it('carries the leaf certificate only, as v0.3 `certificate`', () => {
      const der = new X509Certificate(leafPem).raw.toString('base64');
      expect(bundle).toMatchObject({
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        verificationMaterial: { certificate: { rawBytes: der }, timestampVerificationData: {} },
        dsseEnvelope: { signatures: [{ keyid: 'fingerprint' }] },
      });
      expect(bundle['verificationMaterial']).not.toHaveProperty('publicKey');
      expect(bundle['verificationMaterial']).not.toHaveProperty('tlogEntries');
      expect(bundle['verificationMaterial']).not.toHaveProperty('x509CertificateChain');
    });
  });

  // The encoder writes the JSON itself; @sigstore/bundle's own encoding is the oracle.
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

  describe('when the envelope does not carry the signature being bundled', () => {
    const result: SignatureResult = { signature: sig, dsseKeyId: 'dev', identity: { keyId: 'dev' } };

    it('refuses with internal_error', () => {
      const other = dsseEnvelope(payloadType, payload, 'dev', Buffer.from('00', 'hex'));
      expect(() => encoder.encode(other, result)).toThrow(
        expect.objectContaining({ code: 'internal_error' }),
      );
    });

    it('refuses an envelope with two signatures', () => {
      const env = dsseEnvelope(payloadType, payload, 'dev', sig);
      env.signatures.push({ keyid: 'x', sig: sig.toString('base64') });
      expect(() => encoder.encode(env, result)).toThrow(expect.objectContaining({ code: 'internal_error' }));
    });
  });

  describe('when a keyless certificate chain is empty or unparseable', () => {
    it.each([[[]], [['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----']]])(
      'refuses %j with internal_error',
      (chain) => {
        const result: SignatureResult = {
          signature: sig,
          dsseKeyId: 'f',
          identity: { keyId: 'f' },
          certificateChain: chain,
        };
        expect(() => encoder.encode(dsseEnvelope(payloadType, payload, 'f', sig), result)).toThrow(
          expect.objectContaining({ code: 'internal_error' }),
        );
      },
    );
  });
});
