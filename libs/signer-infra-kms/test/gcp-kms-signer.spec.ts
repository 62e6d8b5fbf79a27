import * as grpc from '@grpc/grpc-js';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { PassThroughClient } from 'google-auth-library';
import { preAuthEncoding, SignerError } from '@signer/core';
import { FakeGcpKms, type FakeGcpAlgorithm } from '@signer/testing';
import { KeyConfigError } from '../src/errors';
import { createGcpKmsClient } from '../src/gcp/gcp-kms-client';
import { GcpKmsSigner } from '../src/gcp/gcp-kms-signer';
import { independentlyVerifies, refusalOf } from './kms-verify';

const data = preAuthEncoding(
  'application/vnd.in-toto+json',
  Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}'),
);

describe('GcpKmsSigner against Cloud KMS at the wire', () => {
  let kms: FakeGcpKms;
  const clients: Record<'grpc' | 'rest', KeyManagementServiceClient> = {} as never;
  beforeAll(async () => {
    kms = await FakeGcpKms.start();
    // gRPC: the library's default transport, with insecure channel credentials to the loopback server.
    clients.grpc = new KeyManagementServiceClient({
      apiEndpoint: '127.0.0.1',
      port: kms.grpcPort,
      sslCreds: grpc.credentials.createInsecure(),
      authClient: new PassThroughClient(),
    });
    // REST: what `signing.keys.<id>.endpoint` configures (contract §7).
    clients.rest = await createGcpKmsClient('default', kms.restEndpoint);
  });
  afterAll(async () => {
    await Promise.all([clients.grpc.close(), clients.rest.close()]);
    await kms.close();
  });
  beforeEach(() => {
    kms.calls.length = 0;
    kms.failEveryRequest(undefined);
  });
  const signCalls = () => kms.calls.filter((c) => c.method === 'asymmetricSign');

  describe.each([['grpc' as const], ['rest' as const]])('over %s', (transport) => {
    const client = () => clients[transport];

    describe('when the key version is a supported signing key', () => {
      it.each<[FakeGcpAlgorithm, string]>([
        ['EC_SIGN_P256_SHA256', 'ES256'],
        ['EC_SIGN_P384_SHA384', 'ES384'],
        ['RSA_SIGN_PSS_2048_SHA256', 'PS256'],
        ['RSA_SIGN_PKCS1_2048_SHA256', 'RS256'],
      ])(
        '%s signs with %s, checked by CRC32C both ways, verifying with the published key',
        async (gcpAlgorithm, algorithm) => {
          const version = kms.addKeyVersion(gcpAlgorithm);
          const signer = await GcpKmsSigner.create({
            keyId: 'release',
            name: version.name,
            client: client(),
          });
          const result = await signer.sign(data);
          const published = await signer.describe();
          expect(published).toEqual({
            keyId: 'release',
            algorithm,
            publicKeyPem: version.publicKey.export({ type: 'spki', format: 'pem' }),
          });
          expect(independentlyVerifies(algorithm, published.publicKeyPem, data, result.signature)).toBe(true);
          expect(kms.calls.map((c) => [c.method, c.transport, c.outcome])).toEqual([
            ['getPublicKey', transport, 'ok'],
            ['asymmetricSign', transport, 'ok'],
          ]);
        },
      );
    });

    describe('when the key version cannot sign as configured', () => {
      it.each<[string, FakeGcpAlgorithm, 'ES384' | undefined, RegExp]>([
        [
          'a decryption key',
          'RSA_DECRYPT_OAEP_2048_SHA256',
          undefined,
          /expected an asymmetric signing key version, got RSA_DECRYPT_OAEP_2048_SHA256/,
        ],
        [
          'an unsupported curve',
          'EC_SIGN_SECP256K1_SHA256',
          undefined,
          /unsupported signing algorithm EC_SIGN_SECP256K1_SHA256/,
        ],
        [
          'a mismatched algorithm',
          'EC_SIGN_P256_SHA256',
          'ES384',
          /configured algorithm ES384 does not match the key version's EC_SIGN_P256_SHA256/,
        ],
      ])('refuses %s at start-up', async (_label, gcpAlgorithm, configured, message) => {
        const version = kms.addKeyVersion(gcpAlgorithm);
        const error = await refusalOf(
          GcpKmsSigner.create({
            keyId: 'release',
            name: version.name,
            client: client(),
            algorithm: configured,
          }),
        );
        expect(error).toBeInstanceOf(KeyConfigError);
        expect(error.message).toMatch(message);
      });

      it('refuses a key version that does not exist', async () => {
        const name = 'projects/p/locations/l/keyRings/r/cryptoKeys/missing/cryptoKeyVersions/1';
        const error = await refusalOf(GcpKmsSigner.create({ keyId: 'release', name, client: client() }));
        expect(error).toBeInstanceOf(KeyConfigError);
        expect(error.message).toMatch(/getPublicKey failed/);
      });
    });

    describe('when Cloud KMS is out of quota', () => {
      it('retries RESOURCE_EXHAUSTED like AWS throttling, then signs', async () => {
        const signer = await GcpKmsSigner.create({
          keyId: 'k',
          name: kms.addKeyVersion('EC_SIGN_P256_SHA256').name,
          client: client(),
        });
        kms.failNext(2, 'RESOURCE_EXHAUSTED');
        const result = await signer.sign(data);
        expect(independentlyVerifies('ES256', signer.publicKeyPem, data, result.signature)).toBe(true);
        expect(signCalls().map((c) => c.outcome)).toEqual(['RESOURCE_EXHAUSTED', 'RESOURCE_EXHAUSTED', 'ok']);
      });

      it('refuses with upstream_unavailable and Retry-After past the deadline', async () => {
        const signer = await GcpKmsSigner.create({
          keyId: 'k',
          name: kms.addKeyVersion('EC_SIGN_P256_SHA256').name,
          client: client(),
          deadlineMs: 500,
        });
        kms.failEveryRequest('RESOURCE_EXHAUSTED');
        const error = await refusalOf(signer.sign(data));
        expect(error).toBeInstanceOf(SignerError);
        expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'kms', retryAfterSeconds: 1 });
      });
    });

    describe('when an answer is damaged in transit (CRC32C mismatch)', () => {
      it('discards it and retries: the damaged signature is never returned', async () => {
        const signer = await GcpKmsSigner.create({
          keyId: 'k',
          name: kms.addKeyVersion('EC_SIGN_P256_SHA256').name,
          client: client(),
        });
        kms.failNext(1, 'corrupt-signature');
        const result = await signer.sign(data);
        expect(independentlyVerifies('ES256', signer.publicKeyPem, data, result.signature)).toBe(true);
        expect(signCalls()).toHaveLength(2);
      });

      it('refuses when every answer is damaged, returning no signature', async () => {
        const signer = await GcpKmsSigner.create({
          keyId: 'k',
          name: kms.addKeyVersion('EC_SIGN_P256_SHA256').name,
          client: client(),
          deadlineMs: 500,
        });
        kms.failEveryRequest('corrupt-signature');
        const error = await refusalOf(signer.sign(data));
        expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'kms' });
        // KMS answered every attempt; each answer was discarded by the CRC32C check.
        expect(signCalls().length).toBeGreaterThan(0);
        expect(signCalls().every((c) => c.outcome === 'ok')).toBe(true);
      });

      it('refuses when KMS did not confirm the digest CRC32C', async () => {
        const signer = await GcpKmsSigner.create({
          keyId: 'k',
          name: kms.addKeyVersion('EC_SIGN_P256_SHA256').name,
          client: client(),
          deadlineMs: 500,
        });
        kms.failEveryRequest('digest-crc-not-verified');
        const error = await refusalOf(signer.sign(data));
        expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'kms' });
        // The answers carried valid signatures: refusing them is the integrity check at work.
        expect(signCalls().length).toBeGreaterThan(0);
        expect(signCalls().every((c) => c.outcome === 'ok')).toBe(true);
      });
    });
  });
});
