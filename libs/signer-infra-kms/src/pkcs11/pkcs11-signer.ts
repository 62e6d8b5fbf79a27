import type { KeyObject } from 'node:crypto';
import type { Mechanism, RsaPSS } from 'pkcs11js';
import { SignerError, type KeySigner, type PublicKeyInfo, type SignatureResult } from '@signer/core';
import { KeyConfigError } from '../errors';
import { unpaced, type CallPacer } from '../kms/call-pacer';
import {
  DEFAULT_PROBE_TIMEOUT_MS,
  DEFAULT_SIGN_DEADLINE_MS,
  DeadlineExceededError,
  retryWithinDeadline,
} from '../kms/retry-within-deadline';
import { digestFor, keyMismatch, verifiesWith, type KmsAlgorithm } from '../kms/signing-algorithm';
import { toUpstreamError } from '../kms/upstream-error';
import { isSessionLost, pkcs11ErrorName, SessionWaitTimeoutError } from './pkcs11-errors';
import { acquirePkcs11Module, type Pkcs11Module } from './pkcs11-module';
import { findKeyObject, p1363ToDer, Pkcs11ObjectError, readPublicKey } from './pkcs11-objects';
import { findTokenSlot, readPinFile } from './pkcs11-token';
import type { Pkcs11Uri } from './pkcs11-uri';
import { DEFAULT_PKCS11_POOL_SIZE, SessionPool } from './session-pool';

export interface Pkcs11SignerOptions {
  keyId: string;
  /** The parsed `pkcs11:` reference; `module-path`, `pin-source` and `id` or `object` are required. */
  uri: Pkcs11Uri;
  /** `signing.keys.<id>.algorithm`: must match the key; required for RSA keys (PS256 or RS256). */
  algorithm?: KmsAlgorithm;
  /** Time one signature may take — waiting for a session and retries on a fresh one included. */
  deadlineMs?: number;
  /** `signing.keys.<id>.poolSize`: sessions kept open on the token for this key. */
  poolSize?: number;
  pace?: CallPacer;
}

// DER DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1): CKM_RSA_PKCS signs DigestInfo || H.
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');
// Large enough for an RSA-8192 signature; C_Sign answers with the slice it wrote.
const SIGNATURE_BUFFER_BYTES = 1024;

/**
 * `pkcs11:` keys (RFC 7512) on an HSM or software token. The message is hashed here and only the
 * digest goes to the token (CKM_ECDSA, CKM_RSA_PKCS_PSS, CKM_RSA_PKCS over DigestInfo), as with
 * the cloud KMS backends. Built by {@link Pkcs11Signer.create}, which logs in, finds the key pair,
 * publishes the public key and signs once to prove the pair matches. Every signature is verified
 * against the published key before it is returned.
 */
export class Pkcs11Signer implements KeySigner {
  readonly mode = 'kms' as const;
  readonly keyId: string;
  readonly publicKeyPem: string;

  private constructor(
    private readonly options: Pkcs11SignerOptions,
    private readonly module: Pkcs11Module,
    private readonly pool: SessionPool<{ privateKey: Buffer }>,
    readonly algorithm: KmsAlgorithm,
    private readonly publicKey: KeyObject,
  ) {
    this.keyId = options.keyId;
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** Throws {@link KeyConfigError} when the module, token, PIN or key pair cannot be used. */
  static async create(options: Pkcs11SignerOptions): Promise<Pkcs11Signer> {
    const { uri } = options;
    const what = `signing key "${options.keyId}" (pkcs11)`;
    if (!uri.modulePath) {
      throw new KeyConfigError(
        `${what}: the reference needs module-path=/absolute/path/to/module.so (module-name alone is not resolved)`,
      );
    }
    if (!uri.pinSource)
      throw new KeyConfigError(`${what}: the reference needs pin-source=file:/absolute/path`);
    if (!uri.id && uri.object === undefined) {
      throw new KeyConfigError(`${what}: the reference must name the key pair with id= or object=`);
    }
    if (uri.type !== undefined && uri.type !== 'private') {
      throw new KeyConfigError(`${what}: type=${uri.type} does not name a private key`);
    }
    const pinFile = uri.pinSource;
    await readPinFile(pinFile);
    const module = await acquirePkcs11Module(uri.modulePath);
    let pool: SessionPool<{ privateKey: Buffer }> | undefined;
    try {
      const slot = findTokenSlot(module, uri, what);
      pool = new SessionPool({
        module,
        slot,
        size: options.poolSize ?? DEFAULT_PKCS11_POOL_SIZE,
        readPin: () => readPinFile(pinFile),
        prepare: (session) => ({ privateKey: findKeyObject(module, session, uri, 'private') }),
      });
      const publicKey = await pool
        .use(options.deadlineMs ?? DEFAULT_SIGN_DEADLINE_MS, async ({ handle }) =>
          readPublicKey(module, handle, findKeyObject(module, handle, uri, 'public')),
        )
        .catch((cause: unknown) => {
          throw startupError(what, pinFile, cause);
        });
      const algorithm = chooseAlgorithm(what, publicKey, options.algorithm);
      const signer = new Pkcs11Signer(options, module, pool, algorithm, publicKey);
      await signer.sign(Buffer.from(`pkcs11 start-up check for ${options.keyId}`)).catch((cause: unknown) => {
        throw new KeyConfigError(`${what}: the private key cannot sign as published (${messageOf(cause)})`, {
          cause,
        });
      });
      return signer;
    } catch (error) {
      if (pool) await pool.close();
      else module.release();
      throw error;
    }
  }

  async sign(data: Buffer): Promise<SignatureResult> {
    const pace = this.options.pace ?? unpaced;
    const digest = digestFor(this.algorithm, data);
    let signature: Buffer;
    try {
      signature = await retryWithinDeadline(
        async ({ remainingMs, number }) => {
          await pace();
          try {
            return await this.pool.use(remainingMs(), (session) => this.signDigest(session, digest));
          } catch (error) {
            // The whole deadline went on waiting (or on a call that never returned): not retried.
            if (error instanceof SessionWaitTimeoutError)
              throw new DeadlineExceededError(number, { cause: error });
            throw error;
          }
        },
        {
          deadlineMs: this.options.deadlineMs ?? DEFAULT_SIGN_DEADLINE_MS,
          isRetryable: isSessionLost,
        },
      );
    } catch (error) {
      throw toUpstreamError('kms', `PKCS#11 sign for key "${this.keyId}"`, error, pkcs11ErrorName);
    }
    // A signature that does not verify with the published key must never reach a caller.
    if (!verifiesWith(this.algorithm, this.publicKey, data, signature)) {
      throw new SignerError(
        'internal_error',
        `the token returned a signature for key "${this.keyId}" that does not verify`,
      );
    }
    return {
      signature,
      dsseKeyId: this.keyId,
      identity: { keyId: this.keyId },
      publicKeyPem: this.publicKeyPem,
    };
  }

  /**
   * Readiness (`/readyz`): a logged-in session can be had within `timeoutMs` and the token still
   * holds the published public key — module loaded, token present, PIN valid, key neither deleted
   * nor swapped.
   */
  async probe(timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): Promise<void> {
    const current = await this.pool.use(timeoutMs, async ({ handle }) =>
      readPublicKey(this.module, handle, findKeyObject(this.module, handle, this.options.uri, 'public')),
    );
    const der = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });
    if (!der(current).equals(der(this.publicKey))) {
      throw new Error(`PKCS#11 key "${this.keyId}" no longer has the published public key`);
    }
  }

  async describe(): Promise<PublicKeyInfo> {
    return { keyId: this.keyId, algorithm: this.algorithm, publicKeyPem: this.publicKeyPem };
  }

  /** Closes the sessions; the last key on a module finalises it. */
  close(): Promise<void> {
    return this.pool.close();
  }

  private async signDigest(session: { handle: Buffer; context: { privateKey: Buffer } }, digest: Buffer) {
    const { api } = this.module;
    const { mechanism, input } = this.mechanismFor(digest);
    api.C_SignInit(session.handle, mechanism, session.context.privateKey);
    const raw = await api.C_SignAsync(session.handle, input, Buffer.alloc(SIGNATURE_BUFFER_BYTES));
    return this.algorithm === 'ES256' || this.algorithm === 'ES384' ? p1363ToDer(raw) : Buffer.from(raw);
  }

  private mechanismFor(digest: Buffer): { mechanism: Mechanism; input: Buffer } {
    const { lib } = this.module;
    switch (this.algorithm) {
      case 'ES256':
      case 'ES384':
        return { mechanism: { mechanism: lib.CKM_ECDSA }, input: digest };
      case 'PS256': {
        const parameter: RsaPSS = {
          type: lib.CK_PARAMS_RSA_PSS,
          hashAlg: lib.CKM_SHA256,
          mgf: lib.CKG_MGF1_SHA256,
          saltLen: 32,
        };
        // Salt as long as the digest, MGF1 with the same hash: what verifiers (and the other backends) use.
        return { mechanism: { mechanism: lib.CKM_RSA_PKCS_PSS, parameter }, input: digest };
      }
      case 'RS256':
        return {
          mechanism: { mechanism: lib.CKM_RSA_PKCS },
          input: Buffer.concat([SHA256_DIGEST_INFO, digest]),
        };
    }
  }
}

/** EC keys admit one algorithm; RSA keys need the configured one (no silent default between paddings). */
function chooseAlgorithm(
  what: string,
  publicKey: KeyObject,
  configured: KmsAlgorithm | undefined,
): KmsAlgorithm {
  const curve = publicKey.asymmetricKeyDetails?.namedCurve;
  const natural = curve === 'prime256v1' ? 'ES256' : curve === 'secp384r1' ? 'ES384' : undefined;
  if (publicKey.asymmetricKeyType === 'rsa' && configured === undefined) {
    throw new KeyConfigError(`${what}: an RSA key needs an explicit algorithm: PS256 or RS256`);
  }
  const algorithm = configured ?? natural;
  if (algorithm === undefined) throw new KeyConfigError(`${what}: unsupported key type`);
  const mismatch = keyMismatch(algorithm, publicKey);
  if (mismatch) throw new KeyConfigError(`${what}: ${mismatch}`);
  return algorithm;
}

function startupError(what: string, pinFile: string, cause: unknown): KeyConfigError {
  if (cause instanceof KeyConfigError) return cause;
  if (cause instanceof Pkcs11ObjectError) return new KeyConfigError(`${what}: ${cause.message}`, { cause });
  const name = pkcs11ErrorName(cause);
  if (name === 'CKR_PIN_INCORRECT' || name === 'CKR_PIN_LEN_RANGE' || name === 'CKR_PIN_LOCKED') {
    return new KeyConfigError(
      `${what}: the token refused the login (${name}); check the PIN file ${pinFile}`,
      {
        cause,
      },
    );
  }
  return new KeyConfigError(`${what}: cannot open a session on the token (${name})`, { cause });
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
