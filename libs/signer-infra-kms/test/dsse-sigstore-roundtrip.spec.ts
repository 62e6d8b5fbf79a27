import { dsseEnvelope, preAuthEncoding, SigstoreDsseBundleEncoder, type DsseEnvelope } from '@signer/core';
import { verifyDsseEnvelope, verifySigstoreBundleWithKey } from '@signer/client';
import { FileKeySigner } from '../src/file/file-key-signer';
import { generateTestKey, pkcs8Pem, tempKeyDir } from './key-files';

const payloadType = 'application/vnd.in-toto+json';
const statement = Buffer.from(
  '{"_type":"https://in-toto.io/Statement/v1","predicate":{},"predicateType":"https://stella-ops.org/attestations/sbom/1",' +
    '"subject":[{"digest":{"sha256":"' +
    'a'.repeat(64) +
    '"},"name":"registry.example/app"}]}',
);

// The production path end to end: file key → PAE → DSSE envelope → Sigstore bundle, checked by
// the caller-side library (independent PAE, node:crypto) and by @sigstore/verify.
describe('file key DSSE signing verified by @signer/client', () => {
  const keys = tempKeyDir();
  afterAll(() => keys.cleanup());
  const encoder = new SigstoreDsseBundleEncoder();

  describe.each([['ECDSA P-256', 'p256'] as const, ['Ed25519', 'ed25519'] as const])(
    'when the key is %s',
    (_label, kind) => {
      let publicKeyPem: string;
      let envelope: DsseEnvelope;
      let bundle: Record<string, unknown>;

      beforeAll(async () => {
        const path = keys.write(`${kind}.pem`, pkcs8Pem(generateTestKey(kind).privateKey));
        const signer = await FileKeySigner.fromFile({ keyId: 'dev', path });
        const result = await signer.sign(preAuthEncoding(payloadType, statement));
        envelope = dsseEnvelope(payloadType, statement, result.dsseKeyId, result.signature);
        bundle = encoder.encode(envelope, result);
        publicKeyPem = (await signer.describe()).publicKeyPem;
      });

      it('produces an envelope that verifyDsseEnvelope accepts', () => {
        expect(verifyDsseEnvelope(envelope, publicKeyPem)).toBe(true);
      });

      it('produces a Sigstore bundle that @sigstore/verify accepts with only the published key trusted', async () => {
        await expect(
          verifySigstoreBundleWithKey(bundle, { keyHint: 'dev', publicKeyPem }),
        ).resolves.toBeUndefined();
      });

      it('fails both verifiers once the payload is tampered with', async () => {
        const forged = Buffer.from(statement.toString().replace('a'.repeat(64), 'b'.repeat(64))).toString(
          'base64',
        );
        const tamperedBundle = {
          ...bundle,
          dsseEnvelope: { ...(bundle['dsseEnvelope'] as object), payload: forged },
        };
        expect(verifyDsseEnvelope({ ...envelope, payload: forged }, publicKeyPem)).toBe(false);
        await expect(
          verifySigstoreBundleWithKey(tamperedBundle, { keyHint: 'dev', publicKeyPem }),
        ).rejects.toMatchObject({
          code: 'verification_failed',
        });
      });
    },
  );
});
