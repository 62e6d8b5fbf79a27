import { createPublicKey, type KeyObject } from 'node:crypto';
import type { KMSClient } from '@aws-sdk/client-kms';
import { SignerError, type KeySigner, type PublicKeyInfo, type SignatureResult } from '@signer/core';
import { KeyConfigError } from '../errors';
import { unpaced, type CallPacer } from '../kms/call-pacer';
import { parseServiceEndpoint } from '../kms/endpoint';
import {
  DEFAULT_PROBE_TIMEOUT_MS,
  DEFAULT_SIGN_DEADLINE_MS,
  retryWithinDeadline,
} from '../kms/retry-within-deadline';
import { digestFor, keyMismatch, verifiesWith, type KmsAlgorithm } from '../kms/signing-algorithm';
import { toUpstreamError } from '../kms/upstream-error';
import { boundKmsAnswers } from './aws-bounded-answers';
import { awsErrorName, isAwsRetryable } from './aws-errors';
import { AWS_SIGNING_ALGORITHM, chooseAwsAlgorithm } from './aws-key-spec';

export interface AwsKmsClientOptions {
  /** `signing.keys.<id>.region`; otherwise the SDK's chain (AWS_REGION, profile). */
  region?: string;
  /** `signing.keys.<id>.endpoint`: a base URL replacing the regional endpoint. */
  endpoint?: string;
}

export interface AwsKmsSignerOptions {
  /** The Signer's name for the key (`signing.keys.<keyId>`). */
  keyId: string;
  /** The AWS key id, key ARN, alias or alias ARN from `awskms://…`. */
  kmsKeyId: string;
  client: KMSClient;
  /** `signing.keys.<id>.algorithm`: must match the key; required for RSA keys. */
  algorithm?: KmsAlgorithm;
  /** Time one signature may take, retries included. */
  deadlineMs?: number;
  pace?: CallPacer;
}

/**
 * A KMS client for one key. Credentials come from the SDK's default chain. The SDK's own retries
 * are off (`maxAttempts: 1`): the signer retries within its deadline and must see every attempt.
 * No redirect is followed and every answer is read with a byte limit ({@link boundKmsAnswers}).
 */
export async function createAwsKmsClient(keyId: string, options: AwsKmsClientOptions): Promise<KMSClient> {
  const endpoint =
    options.endpoint === undefined
      ? undefined
      : parseServiceEndpoint(`signing.keys.${keyId}.endpoint`, options.endpoint).url;
  const { KMSClient } = await awsKmsSdk();
  const client = new KMSClient({ region: options.region, endpoint, maxAttempts: 1 });
  boundKmsAnswers(client);
  return client;
}

/**
 * The SDK, loaded when an awskms: key is built rather than at start-up (≈ 100 ms of the service's
 * start, for installations that never use it). Node caches the module: one load per process.
 */
type AwsKmsSdk = typeof import('@aws-sdk/client-kms');

function awsKmsSdk(): Promise<AwsKmsSdk> {
  return import('@aws-sdk/client-kms');
}

interface ResolvedKey {
  /** The key ARN GetPublicKey answered with: Sign uses it so re-pointing an alias cannot swap keys. */
  arn: string;
  algorithm: KmsAlgorithm;
  publicKey: KeyObject;
}

/**
 * `awskms://` keys: `Sign` over a locally computed digest (`MessageType: DIGEST`). Built by
 * {@link AwsKmsSigner.create}, which fetches and checks the public key once at start-up. Every
 * signature is verified against that key before it is returned.
 */
export class AwsKmsSigner implements KeySigner {
  readonly mode = 'kms' as const;
  readonly keyId: string;
  readonly algorithm: KmsAlgorithm;
  readonly publicKeyPem: string;

  private constructor(
    private readonly options: AwsKmsSignerOptions,
    private readonly key: ResolvedKey,
    private readonly sdk: AwsKmsSdk,
  ) {
    this.keyId = options.keyId;
    this.algorithm = key.algorithm;
    this.publicKeyPem = key.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** Throws {@link KeyConfigError} when the key is unreachable, not a signing key, or mismatched. */
  static async create(options: AwsKmsSignerOptions): Promise<AwsKmsSigner> {
    const what = `signing key "${options.keyId}" (awskms://${options.kmsKeyId})`;
    const sdk = await awsKmsSdk();
    let answer;
    try {
      answer = await retryWithinDeadline(
        ({ remainingMs }) =>
          options.client.send(new sdk.GetPublicKeyCommand({ KeyId: options.kmsKeyId }), {
            abortSignal: AbortSignal.timeout(Math.max(1, remainingMs())),
          }),
        { deadlineMs: options.deadlineMs ?? DEFAULT_SIGN_DEADLINE_MS, isRetryable: isAwsRetryable },
      );
    } catch (cause) {
      throw new KeyConfigError(`${what}: GetPublicKey failed (${awsErrorName(cause)})`, { cause });
    }
    const choice = chooseAwsAlgorithm(
      answer.KeySpec,
      answer.KeyUsage,
      answer.SigningAlgorithms ?? [],
      options.algorithm,
    );
    if ('problem' in choice) throw new KeyConfigError(`${what}: ${choice.problem}`);
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: Buffer.from(answer.PublicKey ?? []), format: 'der', type: 'spki' });
    } catch (cause) {
      throw new KeyConfigError(`${what}: GetPublicKey returned a public key that does not parse`, { cause });
    }
    const mismatch = keyMismatch(choice.algorithm, publicKey);
    if (mismatch) throw new KeyConfigError(`${what}: ${mismatch}`);
    if (!answer.KeyId) throw new KeyConfigError(`${what}: GetPublicKey returned no KeyId`);
    return new AwsKmsSigner(options, { arn: answer.KeyId, algorithm: choice.algorithm, publicKey }, sdk);
  }

  async sign(data: Buffer): Promise<SignatureResult> {
    const { client, keyId } = this.options;
    const pace = this.options.pace ?? unpaced;
    const digest = digestFor(this.algorithm, data);
    let signature: Buffer;
    try {
      signature = await retryWithinDeadline(
        async ({ remainingMs }) => {
          await pace();
          const out = await client.send(
            new this.sdk.SignCommand({
              KeyId: this.key.arn,
              Message: digest,
              MessageType: 'DIGEST',
              SigningAlgorithm: AWS_SIGNING_ALGORITHM[this.algorithm],
            }),
            { abortSignal: AbortSignal.timeout(Math.max(1, remainingMs())) },
          );
          return Buffer.from(out.Signature ?? []);
        },
        { deadlineMs: this.options.deadlineMs ?? DEFAULT_SIGN_DEADLINE_MS, isRetryable: isAwsRetryable },
      );
    } catch (error) {
      throw toUpstreamError('kms', `AWS KMS Sign for key "${keyId}"`, error, awsErrorName);
    }
    // A signature that does not verify with the published key must never reach a caller.
    if (!verifiesWith(this.algorithm, this.key.publicKey, data, signature)) {
      throw new SignerError(
        'internal_error',
        `AWS KMS returned a signature for key "${keyId}" that does not verify`,
      );
    }
    return { signature, dsseKeyId: keyId, identity: { keyId }, publicKeyPem: this.publicKeyPem };
  }

  /**
   * Readiness (`/readyz`): KMS answers GetPublicKey for the key, with the key this Signer publishes
   * — reachable, credentials valid, key neither deleted nor swapped.
   */
  async probe(timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): Promise<void> {
    const out = await this.options.client.send(new this.sdk.GetPublicKeyCommand({ KeyId: this.key.arn }), {
      abortSignal: AbortSignal.timeout(timeoutMs),
    });
    const published = this.key.publicKey.export({ type: 'spki', format: 'der' });
    if (!Buffer.from(out.PublicKey ?? []).equals(published)) {
      throw new Error(`AWS KMS key "${this.keyId}" no longer has the published public key`);
    }
  }

  async describe(): Promise<PublicKeyInfo> {
    return { keyId: this.keyId, algorithm: this.algorithm, publicKeyPem: this.publicKeyPem };
  }
}
