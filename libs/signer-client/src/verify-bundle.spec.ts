import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { bundleToJSON, toDSSEBundle } from '@sigstore/bundle';
import type { SignDsseResponse } from './client/wire-types';
import { pae } from './dsse';
import { IN_TOTO_PAYLOAD_TYPE, verifyBundle } from './verify-bundle';

const signing = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const publicKeyPem = signing.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const KEYS = [{ keyId: 'default', publicKeyPem }];

function statementBytes(name: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name, digest: { sha256: 'ab'.repeat(32) } }],
      predicateType: 'https://stella-ops.org/attestations/scan-report/1',
      predicate: { artifact: { name, size: 1 } },
    }),
  );
}

function envelope(payload: Buffer, key: KeyObject = signing.privateKey) {
  const sig = sign('sha256', pae(IN_TOTO_PAYLOAD_TYPE, payload), key);
  return {
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: 'default', sig: sig.toString('base64') }],
    sig,
  };
}

// The Sigstore half is built with the public @sigstore/bundle builder, independent of the server.
function response(dssePayload: Buffer, sigstorePayload: Buffer = dssePayload): SignDsseResponse {
  const { sig, ...dsse } = envelope(dssePayload);
  const sigstoreSig = sigstorePayload === dssePayload ? sig : envelope(sigstorePayload).sig;
  const sigstoreBundle = bundleToJSON(
    toDSSEBundle({
      artifact: sigstorePayload,
      artifactType: IN_TOTO_PAYLOAD_TYPE,
      signature: sigstoreSig,
      keyHint: 'default',
    }),
  ) as unknown as Record<string, unknown>;
  return {
    bundle: { dsse, mode: 'kms', signingIdentity: { keyId: 'default' } },
    sigstoreBundle,
    policy: { plan: 'pro', maxArtifactBytes: 1024, qpsRemaining: 1 },
    auditId: 'audit-1',
  };
}

describe('verifyBundle', () => {
  describe('when both signatures verify with the listed key', () => {
    it('resolves with the key id and the Statement', async () => {
      await expect(verifyBundle(response(statementBytes('a.txt')), KEYS)).resolves.toMatchObject({
        keyId: 'default',
        statement: {
          subject: [{ name: 'a.txt' }],
          predicateType: 'https://stella-ops.org/attestations/scan-report/1',
        },
      });
    });
  });

  describe('when the DSSE payload was altered', () => {
    it('rejects with verification_failed', async () => {
      const tampered = response(statementBytes('a.txt'));
      const bytes = Buffer.from(tampered.bundle.dsse.payload, 'base64');
      bytes[10] ^= 0x01;
      tampered.bundle.dsse.payload = bytes.toString('base64');

      await expect(verifyBundle(tampered, KEYS)).rejects.toMatchObject({
        name: 'ClientVerificationError',
        code: 'verification_failed',
      });
    });
  });

  describe('when the two halves sign different Statements', () => {
    it('rejects with invalid_bundle', async () => {
      await expect(
        verifyBundle(response(statementBytes('a.txt'), statementBytes('b.txt')), KEYS),
      ).rejects.toMatchObject({
        code: 'invalid_bundle',
      });
    });
  });

  describe('when no listed key has the bundle key id', () => {
    it('rejects with key_mismatch', async () => {
      await expect(
        verifyBundle(response(statementBytes('a.txt')), [{ keyId: 'other', publicKeyPem }]),
      ).rejects.toMatchObject({
        code: 'key_mismatch',
      });
    });
  });

  describe('when the key under that id is another key', () => {
    it('rejects with verification_failed', async () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString();

      await expect(
        verifyBundle(response(statementBytes('a.txt')), [{ keyId: 'default', publicKeyPem: other }]),
      ).rejects.toMatchObject({
        code: 'verification_failed',
      });
    });
  });

  describe('when the bundle is keyless', () => {
    it('rejects with invalid_bundle', async () => {
      const keyless = response(statementBytes('a.txt'));
      keyless.bundle.mode = 'keyless';

      await expect(verifyBundle(keyless, KEYS)).rejects.toMatchObject({ code: 'invalid_bundle' });
    });
  });

  describe('when the signed payload is not an in-toto Statement', () => {
    it('rejects with invalid_bundle', async () => {
      await expect(verifyBundle(response(Buffer.from('{"_type":"other"}')), KEYS)).rejects.toMatchObject({
        code: 'invalid_bundle',
      });
    });
  });
});
