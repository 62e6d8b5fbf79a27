import { KMSClient } from '@aws-sdk/client-kms';
import { preAuthEncoding, SignerError } from '@signer/core';
import { FakeAwsKms, type FakeAwsKeySpec } from '@signer/testing';
import { createAwsKmsClient, AwsKmsSigner } from '../src/aws/aws-kms-signer';
import { KeyConfigError } from '../src/errors';
import { independentlyVerifies, refusalOf } from './kms-verify';

const data = preAuthEncoding(
  'application/vnd.in-toto+json',
  Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}'),
);

describe('AwsKmsSigner against AWS KMS at the wire (SigV4 checked)', () => {
  let kms: FakeAwsKms;
  let client: KMSClient;
  beforeAll(async () => {
    kms = await FakeAwsKms.start();
    client = new KMSClient({
      endpoint: kms.endpoint,
      region: kms.region,
      credentials: kms.credentials,
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    client.destroy();
    await kms.close();
  });
  beforeEach(() => {
    kms.calls.length = 0;
    kms.failEveryRequest(undefined);
  });

  describe('when the key is a supported signing key', () => {
    it.each<[FakeAwsKeySpec, 'ES256' | 'ES384' | 'PS256' | 'RS256' | undefined, string, string]>([
      ['ECC_NIST_P256', undefined, 'ES256', 'ECDSA_SHA_256'],
      ['ECC_NIST_P384', undefined, 'ES384', 'ECDSA_SHA_384'],
      ['RSA_2048', 'PS256', 'PS256', 'RSASSA_PSS_SHA_256'],
      ['RSA_2048', 'RS256', 'RS256', 'RSASSA_PKCS1_V1_5_SHA_256'],
    ])(
      '%s (%s) signs a digest with %s that verifies with the published key',
      async (spec, configured, algorithm, awsAlgorithm) => {
        const key = kms.createKey(spec);
        const signer = await AwsKmsSigner.create({
          keyId: 'release',
          kmsKeyId: key.keyId,
          client,
          algorithm: configured,
        });
        const result = await signer.sign(data);
        const published = await signer.describe();
        expect(published).toEqual({
          keyId: 'release',
          algorithm,
          publicKeyPem: key.publicKey.export({ type: 'spki', format: 'pem' }),
        });
        expect(independentlyVerifies(algorithm, published.publicKeyPem, data, result.signature)).toBe(true);
        if (algorithm.startsWith('ES')) expect(result.signature[0]).toBe(0x30);
        expect(result).toMatchObject({ dsseKeyId: 'release', identity: { keyId: 'release' } });
        expect(kms.signCalls()).toEqual([
          expect.objectContaining({ keyId: key.arn, signingAlgorithm: awsAlgorithm, status: 200 }),
        ]);
      },
    );

    it('signs with the key ARN GetPublicKey resolved, not the alias (re-pointing the alias cannot swap keys)', async () => {
      const key = kms.createKey('ECC_NIST_P256', { alias: 'alias/stella-signer' });
      const signer = await AwsKmsSigner.create({ keyId: 'default', kmsKeyId: 'alias/stella-signer', client });
      await signer.sign(data);
      expect(kms.calls.map((c) => [c.target, c.keyId])).toEqual([
        ['GetPublicKey', 'alias/stella-signer'],
        ['Sign', key.arn],
      ]);
    });
  });

  describe('when the key cannot sign as configured', () => {
    it.each<[string, () => { kmsKeyId: string; algorithm?: 'ES256' | 'ES384' | 'PS256' | 'RS256' }, RegExp]>([
      [
        'an encryption key',
        () => ({ kmsKeyId: kms.createKey('RSA_2048', { usage: 'ENCRYPT_DECRYPT' }).keyId }),
        /expected KeyUsage SIGN_VERIFY, got ENCRYPT_DECRYPT/,
      ],
      [
        'an unsupported curve',
        () => ({ kmsKeyId: kms.createKey('ECC_SECG_P256K1').keyId }),
        /unsupported KeySpec ECC_SECG_P256K1/,
      ],
      [
        'a mismatched algorithm',
        () => ({ kmsKeyId: kms.createKey('ECC_NIST_P256').keyId, algorithm: 'ES384' }),
        /configured algorithm ES384 does not match KeySpec ECC_NIST_P256/,
      ],
      [
        'an RSA key without an algorithm',
        () => ({ kmsKeyId: kms.createKey('RSA_2048').keyId }),
        /needs an explicit algorithm: PS256 or RS256/,
      ],
      ['an unknown key', () => ({ kmsKeyId: 'alias/missing' }), /GetPublicKey failed \(NotFoundException\)/],
    ])('refuses %s at start-up with a KeyConfigError naming the key', async (_label, make, message) => {
      const error = await refusalOf(AwsKmsSigner.create({ keyId: 'release', client, ...make() }));
      expect(error).toBeInstanceOf(KeyConfigError);
      expect(error.message).toMatch(/signing key "release"/);
      expect(error.message).toMatch(message);
    });

    it('refuses credentials whose SigV4 signature KMS rejects', async () => {
      const key = kms.createKey('ECC_NIST_P256');
      const forged = new KMSClient({
        endpoint: kms.endpoint,
        region: kms.region,
        credentials: { accessKeyId: kms.credentials.accessKeyId, secretAccessKey: 'not-the-secret' },
        maxAttempts: 1,
      });
      const error = await refusalOf(
        AwsKmsSigner.create({ keyId: 'release', kmsKeyId: key.keyId, client: forged }),
      );
      forged.destroy();
      expect(error.message).toMatch(/InvalidSignatureException/);
      expect(kms.calls.map((c) => c.outcome)).toEqual(['InvalidSignatureException']);
    });
  });

  describe('when KMS throttles or fails', () => {
    it('retries ThrottlingException and KMSInternalException with backoff, then signs', async () => {
      const key = kms.createKey('ECC_NIST_P256');
      const signer = await AwsKmsSigner.create({ keyId: 'k', kmsKeyId: key.keyId, client });
      kms.failNext(2, 'ThrottlingException');
      kms.failNext(1, 'KMSInternalException');
      const result = await signer.sign(data);
      expect(independentlyVerifies('ES256', signer.publicKeyPem, data, result.signature)).toBe(true);
      expect(kms.signCalls().map((c) => c.outcome)).toEqual([
        'ThrottlingException',
        'ThrottlingException',
        'KMSInternalException',
        'ok',
      ]);
    });

    it('refuses with upstream_unavailable and Retry-After when throttling outlasts the deadline', async () => {
      const key = kms.createKey('ECC_NIST_P256');
      const signer = await AwsKmsSigner.create({ keyId: 'k', kmsKeyId: key.keyId, client, deadlineMs: 250 });
      kms.failEveryRequest('ThrottlingException');
      const error = await refusalOf(signer.sign(data));
      expect(error).toBeInstanceOf(SignerError);
      expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'kms', retryAfterSeconds: 1 });
      expect(kms.signCalls().length).toBeGreaterThan(1);
    });

    it.each([['AccessDeniedException' as const], ['DisabledException' as const]])(
      'does not retry %s (retrying cannot fix it) and gives no Retry-After',
      async (failure) => {
        const key = kms.createKey('ECC_NIST_P256');
        const signer = await AwsKmsSigner.create({ keyId: 'k', kmsKeyId: key.keyId, client });
        kms.failNext(1, failure);
        const error = await refusalOf(signer.sign(data));
        expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'kms' });
        expect(error.message).toContain(failure);
        expect(error.retryAfterSeconds).toBeUndefined();
        expect(kms.signCalls()).toHaveLength(1);
      },
    );

    it('paces every attempt through the pacer, retries included', async () => {
      const key = kms.createKey('ECC_NIST_P256');
      let paced = 0;
      const signer = await AwsKmsSigner.create({
        keyId: 'k',
        kmsKeyId: key.keyId,
        client,
        pace: async () => void paced++,
      });
      kms.failNext(1, 'ThrottlingException');
      await signer.sign(data);
      expect(paced).toBe(2);
    });

    it('passes a pacer refusal (plan_throttled) through without calling KMS', async () => {
      const key = kms.createKey('ECC_NIST_P256');
      const throttled = new SignerError('plan_throttled', 'rate', { limit: 'kms', retryAfterSeconds: 2 });
      const signer = await AwsKmsSigner.create({
        keyId: 'k',
        kmsKeyId: key.keyId,
        client,
        pace: () => Promise.reject(throttled),
      });
      await expect(signer.sign(data)).rejects.toBe(throttled);
      expect(kms.signCalls()).toHaveLength(0);
    });
  });

  describe('when the client is built from configuration', () => {
    it('talks to the configured endpoint with credentials from the SDK chain (environment)', async () => {
      const saved = { ...process.env };
      Object.assign(process.env, {
        AWS_ACCESS_KEY_ID: kms.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: kms.credentials.secretAccessKey,
      });
      try {
        const key = kms.createKey('ECC_NIST_P256');
        const configured = await createAwsKmsClient('default', {
          endpoint: kms.endpoint,
          region: kms.region,
        });
        const signer = await AwsKmsSigner.create({ keyId: 'default', kmsKeyId: key.arn, client: configured });
        const result = await signer.sign(data);
        configured.destroy();
        expect(independentlyVerifies('ES256', signer.publicKeyPem, data, result.signature)).toBe(true);
      } finally {
        process.env = saved;
      }
    });

    it('refuses a plain-http endpoint that is not loopback', async () => {
      await expect(
        createAwsKmsClient('default', { endpoint: 'http://kms.internal:8080', region: 'eu-west-1' }),
      ).rejects.toThrow(/plain http:\/\/ is only allowed for a loopback host/);
    });
  });
});
