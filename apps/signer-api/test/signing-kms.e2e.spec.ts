import { FakeAwsKms, FakeGcpKms } from '@signer/testing';
import { adminReadyz } from './admin-readyz';
import { Caller, startHarness, validBody, type Harness } from './harness';
import { useAwsCredentials, verifyDsse, verifyKeyedBundle } from './signing-fixtures';

type SigningSection = { keys: Record<string, Record<string, unknown>> };

// RSA key generation and two wire fakes make start-up slow on a busy machine.
jest.setTimeout(30_000);

describe('signing with cloud KMS keys (AWS KMS and Cloud KMS at the wire)', () => {
  let aws: FakeAwsKms;
  let gcp: FakeGcpKms;
  let restoreEnv: () => void;
  let harness: Harness;
  let caller: Caller;
  const refs: Record<string, Record<string, unknown>> = {};

  beforeAll(async () => {
    [aws, gcp] = await Promise.all([FakeAwsKms.start(), FakeGcpKms.start()]);
    restoreEnv = useAwsCredentials(aws.credentials, aws.region);
    const awsKey = (spec: Parameters<FakeAwsKms['createKey']>[0], extra: Record<string, unknown> = {}) => ({
      ref: `awskms://${aws.createKey(spec).arn}`,
      endpoint: aws.endpoint,
      ...extra,
    });
    const gcpKey = (algorithm: Parameters<FakeGcpKms['addKeyVersion']>[0]) => ({
      ref: `gcpkms://${gcp.addKeyVersion(algorithm).name}`,
      endpoint: gcp.restEndpoint,
    });
    Object.assign(refs, {
      'aws-p256': awsKey('ECC_NIST_P256', { timeoutMs: 400 }),
      'aws-p384': awsKey('ECC_NIST_P384'),
      'aws-rsa-pss': awsKey('RSA_2048', { algorithm: 'PS256' }),
      'aws-rsa-pkcs1': awsKey('RSA_2048', { algorithm: 'RS256' }),
      'gcp-p256': { ...gcpKey('EC_SIGN_P256_SHA256'), timeoutMs: 400 },
      'gcp-p384': gcpKey('EC_SIGN_P384_SHA384'),
      'gcp-rsa-pss': gcpKey('RSA_SIGN_PSS_2048_SHA256'),
      'gcp-rsa-pkcs1': gcpKey('RSA_SIGN_PKCS1_2048_SHA256'),
    });
    // Readiness re-checked on every probe here: the tests flip the KMS between probes.
    harness = await startHarness({
      env: { SIGNER__SERVER__READINESSCACHEMS: '0' },
      configure: (config) => Object.assign((config['signing'] as SigningSection).keys, refs),
    });
    caller = await Caller.create(harness);
  }, 60_000);
  afterAll(async () => {
    await harness.close();
    restoreEnv();
    await Promise.all([aws.close(), gcp.close()]);
  });
  beforeEach(() => {
    aws.failEveryRequest(undefined);
    gcp.failEveryRequest(undefined);
  });

  const published = async () =>
    (await harness.app.inject({ method: 'GET', url: '/api/v1/signer/keys' })).json() as {
      keys: Array<{ keyId: string; name: string; algorithm: string; publicKeyPem: string }>;
      fulcioChain: string[];
    };
  const sign = (keyId: string) => caller.sign(validBody(harness, { options: { signingMode: 'kms', keyId } }));

  describe('when a request names a KMS key', () => {
    it.each([
      ['aws-p256', 'ES256'],
      ['aws-p384', 'ES384'],
      ['aws-rsa-pss', 'PS256'],
      ['aws-rsa-pkcs1', 'RS256'],
      ['gcp-p256', 'ES256'],
      ['gcp-p384', 'ES384'],
      ['gcp-rsa-pss', 'PS256'],
      ['gcp-rsa-pkcs1', 'RS256'],
    ])(
      'signs with %s (%s); the DSSE verifies against the key published at GET /keys',
      async (name, algorithm) => {
        const response = await sign(name);
        expect(response.statusCode).toBe(200);
        const body = response.json();
        // Published under its fingerprint (contract §11), found at /keys by label.
        const key = (await published()).keys.find((k) => k.name === name);
        const keyId = key?.keyId ?? 'missing';
        expect(keyId).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(body.bundle).toMatchObject({ mode: 'kms', signingIdentity: { keyId } });
        expect(body.bundle.dsse.signatures[0].keyid).toBe(keyId);
        expect(key?.algorithm).toBe(algorithm);
        expect(verifyDsse(body.bundle.dsse, algorithm, key?.publicKeyPem ?? '')).toBe(true);
        // The Sigstore bundle restates the same envelope with a key hint.
        expect(body.sigstoreBundle.verificationMaterial.publicKey.hint).toBe(keyId);
        expect(verifyDsse(body.sigstoreBundle.dsseEnvelope, algorithm, key?.publicKeyPem ?? '')).toBe(true);
        if (algorithm === 'ES256' || algorithm === 'RS256') {
          expect(() =>
            verifyKeyedBundle(body.sigstoreBundle, keyId, algorithm, key?.publicKeyPem ?? ''),
          ).not.toThrow();
        }
      },
    );

    it('publishes every configured key with its algorithm, and no Fulcio chain without keyless', async () => {
      const keys = await published();
      expect(keys.keys.map((k) => [k.name, k.algorithm]).sort()).toEqual(
        [
          ['aws-p256', 'ES256'],
          ['aws-p384', 'ES384'],
          ['aws-rsa-pkcs1', 'RS256'],
          ['aws-rsa-pss', 'PS256'],
          ['default', 'ES256'],
          ['gcp-p256', 'ES256'],
          ['gcp-p384', 'ES384'],
          ['gcp-rsa-pkcs1', 'RS256'],
          ['gcp-rsa-pss', 'PS256'],
        ].sort(),
      );
      expect(keys.fulcioChain).toEqual([]);
    });
  });

  describe('when readiness is probed', () => {
    const readyz = async () => {
      const response = await adminReadyz(harness.runtime);
      return { status: response.statusCode, dependencies: response.body.dependencies };
    };

    it('reports every KMS key ready when it answers with the published key', async () => {
      const { status, dependencies } = await readyz();
      expect(status).toBe(200);
      for (const keyId of Object.keys(refs)) expect(dependencies[`kms:${keyId}`]).toBe('ok');
    });

    it('reports not ready when AWS KMS refuses the key', async () => {
      aws.failEveryRequest('AccessDeniedException');
      const { status, dependencies } = await readyz();
      expect(status).toBe(503);
      expect(dependencies['kms:aws-p256']).toBe('unavailable');
      expect(dependencies['kms:gcp-p256']).toBe('ok');
    });
  });

  describe('when the KMS throttles', () => {
    it('retries AWS ThrottlingException within the deadline and answers 200', async () => {
      aws.failNext(2, 'ThrottlingException');
      const before = aws.signCalls().length;
      const response = await sign('aws-p256');
      expect(response.statusCode).toBe(200);
      expect(
        aws
          .signCalls()
          .slice(before)
          .map((c) => c.outcome),
      ).toEqual(['ThrottlingException', 'ThrottlingException', 'ok']);
    });

    it.each([
      ['aws-p256', () => aws.failEveryRequest('ThrottlingException')],
      ['gcp-p256', () => gcp.failEveryRequest('RESOURCE_EXHAUSTED')],
    ])(
      'answers %s with 503 upstream_unavailable and Retry-After once throttling outlasts the deadline, audited',
      async (keyId, throttle) => {
        throttle();
        const response = await sign(keyId);
        expect(response.statusCode).toBe(503);
        expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(response.headers['retry-after']).toBe('1');
        const problem = response.json();
        expect(problem).toMatchObject({ code: 'upstream_unavailable', status: 503 });
        const record = harness.auditLines().find((line) => line['auditId'] === problem.auditId);
        expect(record).toMatchObject({ outcome: 'upstream_unavailable' });
        const metrics = (await harness.app.inject({ method: 'GET', url: '/metrics' })).body;
        expect(metrics).toMatch(/signer_upstream_errors_total\{upstream="kms"\} [1-9]/);
      },
    );
  });

  describe('when Cloud KMS answers with a damaged signature (CRC32C mismatch)', () => {
    it('refuses with 503 and returns no signature', async () => {
      gcp.failEveryRequest('corrupt-signature');
      const response = await sign('gcp-p256');
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ code: 'upstream_unavailable' });
      expect(response.body).not.toContain('"dsse"');
      expect(response.json()).not.toHaveProperty('bundle');
    });
  });
});
