import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import { closeServer, startLoopbackServer } from '../loopback-http';
import { signDigest, type DigestSignature } from '../prehash-sign';
import { sigV4Problem, type SigV4Credentials } from './sigv4';

export type FakeAwsKeySpec = 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'ECC_SECG_P256K1' | 'RSA_2048' | 'RSA_3072';
export type FakeAwsKeyUsage = 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT';
export type AwsFailure =
  'ThrottlingException' | 'KMSInternalException' | 'AccessDeniedException' | 'DisabledException';

export interface FakeAwsKey {
  keyId: string;
  arn: string;
  alias?: string;
  spec: FakeAwsKeySpec;
  usage: FakeAwsKeyUsage;
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export interface FakeAwsKmsOptions {
  region?: string;
  credentials?: SigV4Credentials;
  accountId?: string;
}

/** One request the fake answered (for assertions on what the client really sent). */
export interface AwsKmsCall {
  target: string;
  keyId?: string;
  signingAlgorithm?: string;
  status: number;
  outcome: string;
}

export const FAKE_AWS_CREDENTIALS: SigV4Credentials = {
  accessKeyId: 'AKIAFAKEKMSSIGNER000',
  secretAccessKey: 'fake-kms-secret-for-loopback-tests-only',
};

const ALGORITHMS: Readonly<
  Record<FakeAwsKeySpec, Record<string, { kind: DigestSignature; digestBytes: number }>>
> = {
  ECC_NIST_P256: { ECDSA_SHA_256: { kind: 'ecdsa', digestBytes: 32 } },
  ECC_NIST_P384: { ECDSA_SHA_384: { kind: 'ecdsa', digestBytes: 48 } },
  ECC_SECG_P256K1: { ECDSA_SHA_256: { kind: 'ecdsa', digestBytes: 32 } },
  RSA_2048: {
    RSASSA_PSS_SHA_256: { kind: 'rsa-pss', digestBytes: 32 },
    RSASSA_PKCS1_V1_5_SHA_256: { kind: 'rsa-pkcs1', digestBytes: 32 },
  },
  RSA_3072: {
    RSASSA_PSS_SHA_256: { kind: 'rsa-pss', digestBytes: 32 },
    RSASSA_PKCS1_V1_5_SHA_256: { kind: 'rsa-pkcs1', digestBytes: 32 },
  },
};

function generate(spec: FakeAwsKeySpec): { publicKey: KeyObject; privateKey: KeyObject } {
  switch (spec) {
    case 'ECC_NIST_P256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ECC_NIST_P384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'ECC_SECG_P256K1':
      return generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    case 'RSA_2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'RSA_3072':
      return generateKeyPairSync('rsa', { modulusLength: 3072 });
  }
}

class AwsError extends Error {
  constructor(
    readonly type: string,
    readonly status = 400,
  ) {
    super(type);
  }
}

/**
 * AWS KMS at the wire (JSON 1.1, `X-Amz-Target: TrentService.*`) on loopback, holding real keys.
 * Every request must carry a valid SigV4 signature for the fake's credentials and region; `Sign`
 * signs the given digest without hashing again. It can be told to throttle or fail.
 */
export class FakeAwsKms {
  readonly calls: AwsKmsCall[] = [];
  readonly region: string;
  readonly credentials: SigV4Credentials;
  private readonly keys: FakeAwsKey[] = [];
  private readonly accountId: string;
  private failures: AwsFailure[] = [];
  private failAlways: AwsFailure | undefined;

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
    options: FakeAwsKmsOptions,
  ) {
    this.region = options.region ?? 'eu-west-1';
    this.credentials = options.credentials ?? FAKE_AWS_CREDENTIALS;
    this.accountId = options.accountId ?? '111122223333';
  }

  static async start(options: FakeAwsKmsOptions = {}): Promise<FakeAwsKms> {
    // The handlers need the instance, which needs the bound server: a holder breaks the cycle.
    const self: { fake?: FakeAwsKms } = {};
    const { server, port } = await startLoopbackServer((request, body, response) => {
      (self.fake as FakeAwsKms).handle(
        request.method ?? '',
        request.url ?? '',
        request.headers,
        body,
        response,
      );
    });
    self.fake = new FakeAwsKms(server, `http://127.0.0.1:${port}`, options);
    return self.fake;
  }

  createKey(spec: FakeAwsKeySpec, options: { usage?: FakeAwsKeyUsage; alias?: string } = {}): FakeAwsKey {
    const keyId = randomUUID();
    const key: FakeAwsKey = {
      keyId,
      arn: `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`,
      alias: options.alias,
      spec,
      usage: options.usage ?? 'SIGN_VERIFY',
      ...generate(spec),
    };
    this.keys.push(key);
    return key;
  }

  /** The next `count` Sign/GetPublicKey requests fail with `failure`. */
  failNext(count: number, failure: AwsFailure = 'ThrottlingException'): void {
    this.failures.push(...Array.from({ length: count }, () => failure));
  }

  /** Every request fails with `failure` until called with undefined. */
  failEveryRequest(failure: AwsFailure | undefined): void {
    this.failAlways = failure;
  }

  signCalls(): AwsKmsCall[] {
    return this.calls.filter((call) => call.target === 'Sign');
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private handle(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
    response: ServerResponse,
  ): void {
    const target = String(headers['x-amz-target'] ?? '').replace(/^TrentService\./, '');
    const call: AwsKmsCall = { target, status: 200, outcome: 'ok' };
    this.calls.push(call);
    try {
      if (method !== 'POST' || path !== '/') throw new AwsError('UnknownOperationException');
      if (headers['content-type'] !== 'application/x-amz-json-1.1') throw new AwsError('ValidationException');
      const problem = sigV4Problem(
        { method, path, headers, body },
        { credentials: this.credentials, region: this.region, service: 'kms', nowMs: Date.now() },
      );
      if (problem)
        throw new AwsError(
          problem === 'unknown access key' ? 'UnrecognizedClientException' : 'InvalidSignatureException',
        );
      const failure = this.failures.shift() ?? this.failAlways;
      if (failure) throw new AwsError(failure, failure === 'KMSInternalException' ? 500 : 400);
      const input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      call.keyId = String(input['KeyId']);
      const answer =
        target === 'Sign'
          ? this.sign(input, call)
          : target === 'GetPublicKey'
            ? this.publicKey(input)
            : undefined;
      if (!answer) throw new AwsError('UnknownOperationException');
      this.reply(response, 200, answer);
    } catch (error) {
      const e = error instanceof AwsError ? error : new AwsError('ValidationException');
      call.status = e.status;
      call.outcome = e.type;
      response.setHeader('x-amzn-errortype', e.type);
      this.reply(response, e.status, { __type: e.type, message: e.type });
    }
  }

  private find(keyId: unknown): FakeAwsKey {
    const key = this.keys.find(
      (k) => keyId === k.keyId || keyId === k.arn || (k.alias !== undefined && keyId === k.alias),
    );
    if (!key) throw new AwsError('NotFoundException');
    return key;
  }

  private publicKey(input: Record<string, unknown>): Record<string, unknown> {
    const key = this.find(input['KeyId']);
    return {
      KeyId: key.arn,
      KeySpec: key.spec,
      KeyUsage: key.usage,
      PublicKey: key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      ...(key.usage === 'SIGN_VERIFY'
        ? { SigningAlgorithms: Object.keys(ALGORITHMS[key.spec]) }
        : { EncryptionAlgorithms: ['RSAES_OAEP_SHA_256'] }),
    };
  }

  private sign(input: Record<string, unknown>, call: AwsKmsCall): Record<string, unknown> {
    const key = this.find(input['KeyId']);
    const algorithm = String(input['SigningAlgorithm']);
    call.signingAlgorithm = algorithm;
    const profile = ALGORITHMS[key.spec][algorithm];
    if (key.usage !== 'SIGN_VERIFY' || !profile) throw new AwsError('InvalidKeyUsageException');
    if (input['MessageType'] !== 'DIGEST') throw new AwsError('ValidationException');
    const digest = Buffer.from(String(input['Message']), 'base64');
    if (digest.length !== profile.digestBytes) throw new AwsError('ValidationException');
    const signature = signDigest(key.privateKey, profile.kind, digest);
    return { KeyId: key.arn, Signature: signature.toString('base64'), SigningAlgorithm: algorithm };
  }

  private reply(response: ServerResponse, status: number, body: unknown): void {
    response.statusCode = status;
    response.setHeader('content-type', 'application/x-amz-json-1.1');
    response.end(JSON.stringify(body));
  }
}
