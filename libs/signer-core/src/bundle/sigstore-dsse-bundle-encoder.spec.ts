import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dsseEnvelope } from '../dsse/envelope';
import type { SignatureResult } from '../model';
import { SIGSTORE_BUNDLE_MEDIA_TYPE, SigstoreDsseBundleEncoder } from './sigstore-dsse-bundle-encoder';

// The byte-for-byte comparison with the SDK's own encoding (the oracle) is
// libs/signer-infra-kms/test/sigstore-bundle-oracle.spec.ts: the core's specs import no SDK.

const payloadType = 'application/vnd.in-toto+json';
const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
const sig = Buffer.from('3045022100aa', 'hex');
const leafPem = readFileSync(join(__dirname, 'vectors/keyless-leaf.pem'), 'utf8');

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
