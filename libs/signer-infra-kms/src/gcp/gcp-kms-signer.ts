import { createPublicKey, type KeyObject } from 'node:crypto';
import { SignerError, type KeySigner, type PublicKeyInfo, type SignatureResult } from '@signer/core';
import { KeyConfigError } from '../errors';
import { unpaced, type CallPacer } from '../kms/call-pacer';
import {
  DEFAULT_PROBE_TIMEOUT_MS,
  DEFAULT_SIGN_DEADLINE_MS,
  retryWithinDeadline,
} from '../kms/retry-within-deadline';
import { digestFor, digestOf, keyMismatch, verifiesWith, type KmsAlgorithm } from '../kms/signing-algorithm';
import { toUpstreamError } from '../kms/upstream-error';
import { crc32c } from './crc32c';
import { chooseGcpAlgorithm } from './gcp-algorithms';
import { gcpErrorName, IntegrityError, isGcpRetryable } from './gcp-errors';
import type { GcpKmsApi } from './gcp-kms-client';

export interface GcpKmsSignerOptions {
  keyId: string;
  /** `projects/…/cryptoKeyVersions/N` from `gcpkms://…`. */
  name: string;
  client: GcpKmsApi;
  algorithm?: KmsAlgorithm;
  deadlineMs?: number;
  pace?: CallPacer;
}

type Int64Like = { value?: number | string | { toString(): string } | null } | null | undefined;

/** Compares a protobuf Int64Value with a CRC32C; absent or different is a mismatch. */
function crcMatches(field: Int64Like, expected: number): boolean {
  const value = field?.value;
  if (value === undefined || value === null) return false;
  try {
    return BigInt(String(value)) === BigInt(expected);
  } catch {
    return false;
  }
}

/**
 * `gcpkms://` key versions: `asymmetricSign` over a locally computed digest with CRC32C checks both
 * ways (Cloud KMS' end-to-end integrity): the request carries the digest's CRC32C and the answer
 * must confirm it (`verifiedDigestCrc32c`), name the same key version, and carry a signature whose
 * CRC32C matches `signatureCrc32c`. A damaged answer is retried within the deadline and never
 * returned; every signature is also verified against the published key.
 */
export class GcpKmsSigner implements KeySigner {
  readonly mode = 'kms' as const;
  readonly keyId: string;
  readonly algorithm: KmsAlgorithm;
  readonly publicKeyPem: string;

  private constructor(
    private readonly options: GcpKmsSignerOptions,
    algorithm: KmsAlgorithm,
    private readonly publicKey: KeyObject,
  ) {
    this.keyId = options.keyId;
    this.algorithm = algorithm;
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** Fetches and checks the public key; throws {@link KeyConfigError} so the process refuses to start. */
  static async create(options: GcpKmsSignerOptions): Promise<GcpKmsSigner> {
    const what = `signing key "${options.keyId}" (gcpkms://${options.name})`;
    let answer;
    try {
      [answer] = await retryWithinDeadline(
        ({ remainingMs }) =>
          options.client.getPublicKey(
            { name: options.name },
            { timeout: Math.max(1, remainingMs()), maxRetries: 0 },
          ),
        { deadlineMs: options.deadlineMs ?? DEFAULT_SIGN_DEADLINE_MS, isRetryable: isGcpRetryable },
      );
    } catch (cause) {
      throw new KeyConfigError(`${what}: getPublicKey failed (${gcpErrorName(cause)})`, { cause });
    }
    if (answer.name !== options.name) {
      throw new KeyConfigError(`${what}: getPublicKey answered for another key version`);
    }
    const pem = answer.pem ?? '';
    if (!crcMatches(answer.pemCrc32c, crc32c(Buffer.from(pem, 'utf8')))) {
      throw new KeyConfigError(`${what}: the public key's CRC32C does not match (damaged in transit)`);
    }
    const choice = chooseGcpAlgorithm(
      answer.algorithm as string | number | null | undefined,
      options.algorithm,
    );
    if ('problem' in choice) throw new KeyConfigError(`${what}: ${choice.problem}`);
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey(pem);
    } catch (cause) {
      throw new KeyConfigError(`${what}: getPublicKey returned a PEM that does not parse`, { cause });
    }
    const mismatch = keyMismatch(choice.algorithm, publicKey);
    if (mismatch) throw new KeyConfigError(`${what}: ${mismatch}`);
    return new GcpKmsSigner(options, choice.algorithm, publicKey);
  }

  async sign(data: Buffer): Promise<SignatureResult> {
    const { keyId } = this.options;
    let signature: Buffer;
    try {
      signature = await retryWithinDeadline(({ remainingMs }) => this.attempt(data, remainingMs), {
        deadlineMs: this.options.deadlineMs ?? DEFAULT_SIGN_DEADLINE_MS,
        isRetryable: isGcpRetryable,
      });
    } catch (error) {
      throw toUpstreamError('kms', `Cloud KMS asymmetricSign for key "${keyId}"`, error, gcpErrorName);
    }
    if (!verifiesWith(this.algorithm, this.publicKey, data, signature)) {
      throw new SignerError(
        'internal_error',
        `Cloud KMS returned a signature for key "${keyId}" that does not verify`,
      );
    }
    return { signature, dsseKeyId: keyId, identity: { keyId }, publicKeyPem: this.publicKeyPem };
  }

  /** Readiness (`/readyz`): Cloud KMS answers getPublicKey for the version with the published key. */
  async probe(timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): Promise<void> {
    const [answer] = await this.options.client.getPublicKey(
      { name: this.options.name },
      { timeout: timeoutMs, maxRetries: 0 },
    );
    if (answer.pem?.trim() !== this.publicKeyPem.trim()) {
      throw new Error(`Cloud KMS key "${this.keyId}" no longer has the published public key`);
    }
  }

  async describe(): Promise<PublicKeyInfo> {
    return { keyId: this.keyId, algorithm: this.algorithm, publicKeyPem: this.publicKeyPem };
  }

  private async attempt(data: Buffer, remainingMs: () => number): Promise<Buffer> {
    const { client, name } = this.options;
    await (this.options.pace ?? unpaced)();
    const digest = digestFor(this.algorithm, data);
    const [answer] = await client.asymmetricSign(
      { name, digest: { [digestOf(this.algorithm)]: digest }, digestCrc32c: { value: crc32c(digest) } },
      { timeout: Math.max(1, remainingMs()), maxRetries: 0 },
    );
    if (answer.verifiedDigestCrc32c !== true)
      throw new IntegrityError('Cloud KMS did not verify the digest CRC32C');
    if (answer.name !== name) throw new IntegrityError('Cloud KMS answered for another key version');
    const signature = Buffer.from(answer.signature ?? []);
    if (!crcMatches(answer.signatureCrc32c, crc32c(signature))) {
      throw new IntegrityError('signature CRC32C mismatch');
    }
    return signature;
  }
}
