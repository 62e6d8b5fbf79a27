import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { OAuth2Client } from 'google-auth-library';
import { preAuthEncoding, SignerError } from '@signer/core';
import { EndlessBodyServer, FakeAwsKms, FakeGcpKms, RedirectingProxy } from '@signer/testing';
import { AWS_KMS_MAX_ANSWER_BYTES } from '../src/aws/aws-bounded-answers';
import { AwsKmsSigner, createAwsKmsClient } from '../src/aws/aws-kms-signer';
import { KeyConfigError } from '../src/errors';
import { createGcpKmsClient } from '../src/gcp/gcp-kms-client';
import { GcpKmsSigner } from '../src/gcp/gcp-kms-signer';
import { GCP_MAX_ANSWER_BYTES, gcpTransporterOptions } from '../src/gcp/gcp-transport';
import { independentlyVerifies, refusalOf } from './kms-verify';

const data = preAuthEncoding('application/vnd.in-toto+json', Buffer.from('{"subject":[]}'));
const SAFETY_BOUND_BYTES = 1024 * 1024 * 1024;

/** Sets environment variables for one describe block and puts the old values back after it. */
function withEnv(values: () => Record<string, string>): void {
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    for (const [name, value] of Object.entries(values())) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });
  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}

describe('AwsKmsSigner behind a hostile endpoint', () => {
  let kms: FakeAwsKms;
  beforeAll(async () => {
    kms = await FakeAwsKms.start();
  });
  afterAll(() => kms.close());
  withEnv(() => ({
    AWS_ACCESS_KEY_ID: kms.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: kms.credentials.secretAccessKey,
  }));

  describe('when the endpoint redirects to another origin', () => {
    let proxy: RedirectingProxy;
    let signer: AwsKmsSigner;
    let client: Awaited<ReturnType<typeof createAwsKmsClient>>;
    beforeEach(async () => {
      proxy = await RedirectingProxy.start(kms.endpoint);
      client = await createAwsKmsClient('k', { endpoint: proxy.url, region: kms.region });
      signer = await AwsKmsSigner.create({
        keyId: 'k',
        kmsKeyId: kms.createKey('ECC_NIST_P256').keyId,
        client,
      });
      kms.calls.length = 0;
    });
    afterEach(async () => {
      client.destroy();
      await proxy.close();
    });

    it('signs through the endpoint while it forwards (the redirect target is the real KMS)', async () => {
      const result = await signer.sign(data);
      expect(independentlyVerifies('ES256', signer.publicKeyPem, data, result.signature)).toBe(true);
      expect(kms.signCalls()).toHaveLength(1);
    });

    it('refuses Sign without following: the SigV4-signed request never reaches the target', async () => {
      proxy.redirect(307);
      const error = await refusalOf(signer.sign(data));
      expect(error).toBeInstanceOf(SignerError);
      expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'kms' });
      expect(error.message).toContain('AWS KMS answered a redirect (HTTP 307), not followed');
      expect(error.retryAfterSeconds).toBeUndefined();
      const redirected = proxy.redirected();
      expect(redirected).toHaveLength(1);
      expect(redirected[0].headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIA/);
      expect(kms.calls).toEqual([]);
    });

    it('fails the readiness probe without following', async () => {
      proxy.redirect(301);
      await expect(signer.probe()).rejects.toThrow('AWS KMS answered a redirect (HTTP 301), not followed');
      expect(proxy.redirected()).toHaveLength(1);
      expect(kms.calls).toEqual([]);
    });
  });

  describe('when the endpoint answers with a body that never ends', () => {
    it('refuses at start-up once the answer passes the limit, and hangs up', async () => {
      const endless = await EndlessBodyServer.start({ boundBytes: SAFETY_BOUND_BYTES });
      const client = await createAwsKmsClient('k', { endpoint: endless.url, region: kms.region });
      try {
        const error = await refusalOf(AwsKmsSigner.create({ keyId: 'k', kmsKeyId: 'alias/any', client }));
        expect(error).toBeInstanceOf(KeyConfigError);
        expect(error.message).toBe(
          `signing key "k" (awskms://alias/any): GetPublicKey failed (AWS KMS answer is larger than ${AWS_KMS_MAX_ANSWER_BYTES} bytes)`,
        );
        expect((await endless.answerEnded()).outcome).toBe('client-closed');
      } finally {
        client.destroy();
        await endless.close();
      }
    });
  });
});

describe('GcpKmsSigner behind a hostile REST endpoint', () => {
  let kms: FakeGcpKms;
  let proxy: RedirectingProxy;
  beforeAll(async () => {
    kms = await FakeGcpKms.start();
  });
  afterAll(() => kms.close());
  beforeEach(async () => {
    proxy = await RedirectingProxy.start(kms.restEndpoint);
    kms.calls.length = 0;
  });
  afterEach(() => proxy.close());

  describe('when a loopback endpoint (no credentials) redirects to another origin', () => {
    let client: KeyManagementServiceClient;
    let signer: GcpKmsSigner;
    beforeEach(async () => {
      client = await createGcpKmsClient('k', proxy.url);
      signer = await GcpKmsSigner.create({
        keyId: 'k',
        name: kms.addKeyVersion('EC_SIGN_P256_SHA256').name,
        client,
      });
      kms.calls.length = 0;
    });
    afterEach(() => client.close());

    it('signs through the endpoint while it forwards', async () => {
      const result = await signer.sign(data);
      expect(independentlyVerifies('ES256', signer.publicKeyPem, data, result.signature)).toBe(true);
      expect(kms.calls.map((c) => c.method)).toEqual(['asymmetricSign']);
    });

    it('refuses asymmetricSign without following: the target receives no request', async () => {
      proxy.redirect(307);
      const error = await refusalOf(signer.sign(data));
      expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'kms' });
      expect(error.message).toContain(`${proxy.url} answered a redirect (HTTP 307), not followed`);
      expect(proxy.redirected()).toHaveLength(1);
      expect(kms.calls).toEqual([]);
    });
  });

  describe('when a client with a credential meets a redirect', () => {
    // An auth client carrying a bearer token, on the transport every Cloud KMS client gets.
    let client: KeyManagementServiceClient;
    beforeEach(() => {
      const authClient = new OAuth2Client({ transporterOptions: gcpTransporterOptions() });
      authClient.setCredentials({
        access_token: 'ya29.loopback-test-token',
        expiry_date: Date.now() + 3600_000,
      });
      const port = Number(new URL(proxy.url).port);
      client = new KeyManagementServiceClient({
        fallback: true,
        apiEndpoint: '127.0.0.1',
        port,
        protocol: 'http',
        authClient,
      });
    });
    afterEach(() => client.close());

    it('sends the token to the endpoint while it forwards', async () => {
      const version = kms.addKeyVersion('EC_SIGN_P256_SHA256');
      const [answer] = await client.getPublicKey({ name: version.name }, { maxRetries: 0 });
      expect(answer.name).toBe(version.name);
      expect(proxy.requests[0].headers.authorization).toBe('Bearer ya29.loopback-test-token');
    });

    it('never sends the token to the redirect target', async () => {
      const version = kms.addKeyVersion('EC_SIGN_P256_SHA256');
      proxy.redirect(308);
      const error = await refusalOf(GcpKmsSigner.create({ keyId: 'k', name: version.name, client }));
      expect(error).toBeInstanceOf(KeyConfigError);
      expect(error.message).toContain('answered a redirect (HTTP 308), not followed');
      expect(proxy.redirected()[0].headers.authorization).toBe('Bearer ya29.loopback-test-token');
      expect(kms.calls).toEqual([]);
    });
  });

  describe('when the https client uses Application Default Credentials', () => {
    // A service-account key: ADC signs its own JWT access tokens with it, with no network call.
    const dir = mkdtempSync(join(tmpdir(), 'signer-gcp-adc-'));
    withEnv(() => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const file = join(dir, 'service-account.json');
      writeFileSync(
        file,
        JSON.stringify({
          type: 'service_account',
          project_id: 'loopback-test',
          private_key_id: 'test-key-1',
          private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
          client_email: 'signer@loopback-test.iam.gserviceaccount.com',
          client_id: '1',
          token_uri: 'https://oauth2.googleapis.com/token',
        }),
        { mode: 0o600 },
      );
      return { GOOGLE_APPLICATION_CREDENTIALS: file };
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    // gax's REST transport sends every call through `client.auth.fetch`; called here directly, as
    // the endpoint would have to be https (with a trusted certificate) for the client to do it.
    it('authenticates through the guarded transport, and follows no redirect with the token', async () => {
      const client = await createGcpKmsClient('k', 'https://cloudkms.example.test');
      try {
        const version = kms.addKeyVersion('EC_SIGN_P256_SHA256');
        const path = `/v1/${version.name}/publicKey`;
        const forwarded = await client.auth.fetch(`${proxy.url}${path}`);
        expect(forwarded.status).toBe(200);
        expect(proxy.requests[0].headers.authorization).toMatch(/^Bearer ey/);
        expect(kms.calls).toHaveLength(1);

        proxy.redirect(307);
        const error = await refusalOf(client.auth.fetch(`${proxy.url}${path}`));
        expect(error).toMatchObject({ code: 'REDIRECT_NOT_FOLLOWED' });
        expect(proxy.redirected()[0].headers.authorization).toMatch(/^Bearer ey/);
        expect(kms.calls).toHaveLength(1);
      } finally {
        await client.close();
      }
    });
  });

  describe('when the endpoint answers with a body that never ends', () => {
    it('refuses at start-up once the answer passes the limit, and hangs up', async () => {
      const endless = await EndlessBodyServer.start({ boundBytes: SAFETY_BOUND_BYTES });
      const client = await createGcpKmsClient('k', endless.url);
      try {
        const name = 'projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1';
        const error = await refusalOf(GcpKmsSigner.create({ keyId: 'k', name, client }));
        expect(error).toBeInstanceOf(KeyConfigError);
        expect(error.message).toBe(
          `signing key "k" (gcpkms://${name}): getPublicKey failed (${endless.url} answer is larger than ${GCP_MAX_ANSWER_BYTES} bytes)`,
        );
        expect((await endless.answerEnded()).outcome).toBe('client-closed');
      } finally {
        await client.close();
        await endless.close();
      }
    });
  });
});
