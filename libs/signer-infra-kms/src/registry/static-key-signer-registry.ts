import { SignerError, type KeySigner, type KeySignerRegistry, type SigningMode } from '@signer/core';
import { KeyConfigError } from '../errors';

export interface StaticKeySignerRegistryOptions {
  signers: readonly KeySigner[];
  /** The `kms` key used when a request names none; must be one of `signers`. */
  defaultKeyId?: string;
}

/**
 * The signers configured at start, looked up per request. Inconsistent configuration (duplicate
 * key ids, a default that does not exist, two keyless signers) is refused at construction so the
 * process never starts with an ambiguous key choice.
 */
export class StaticKeySignerRegistry implements KeySignerRegistry {
  private readonly signers: readonly KeySigner[];
  private readonly kmsKeys: ReadonlyMap<string, KeySigner>;
  private readonly keyless: KeySigner | undefined;
  private readonly defaultKeyId: string | undefined;

  constructor(options: StaticKeySignerRegistryOptions) {
    this.signers = [...options.signers];
    const kmsKeys = new Map<string, KeySigner>();
    for (const signer of this.signers.filter((s) => s.mode === 'kms')) {
      if (kmsKeys.has(signer.keyId))
        throw new KeyConfigError(`signing key "${signer.keyId}" is configured twice`);
      kmsKeys.set(signer.keyId, signer);
    }
    const keyless = this.signers.filter((s) => s.mode === 'keyless');
    if (keyless.length > 1)
      throw new KeyConfigError(`expected at most one keyless signer, got ${keyless.length}`);
    if (options.defaultKeyId !== undefined && !kmsKeys.has(options.defaultKeyId)) {
      throw new KeyConfigError(`default signing key "${options.defaultKeyId}" is not a configured key`);
    }
    this.kmsKeys = kmsKeys;
    this.keyless = keyless[0];
    this.defaultKeyId = options.defaultKeyId;
  }

  resolve(mode: SigningMode, keyId: string | undefined): KeySigner {
    switch (mode) {
      case 'kms':
        return this.resolveKms(keyId);
      case 'keyless':
        return this.resolveKeyless(keyId);
      default:
        throw new SignerError(
          'invalid_request',
          `expected signing mode kms or keyless, got "${String(mode)}"`,
        );
    }
  }

  all(): readonly KeySigner[] {
    return this.signers;
  }

  private resolveKms(keyId: string | undefined): KeySigner {
    const wanted = keyId ?? this.defaultKeyId;
    if (wanted === undefined) {
      throw new SignerError('invalid_request', 'no keyId given and no default signing key is configured');
    }
    const signer = this.kmsKeys.get(wanted);
    if (!signer) throw new SignerError('invalid_request', `unknown signing key "${wanted}"`);
    return signer;
  }

  // A keyId in keyless mode names a configured key the caller expected to be used; honouring the
  // mode anyway would be the silent fallback the port forbids, so only the keyless signer's own
  // id is accepted.
  private resolveKeyless(keyId: string | undefined): KeySigner {
    if (!this.keyless) throw new SignerError('invalid_request', 'signing mode "keyless" is not configured');
    if (keyId !== undefined && keyId !== this.keyless.keyId) {
      throw new SignerError('invalid_request', `signing key "${keyId}" is not available in keyless mode`);
    }
    return this.keyless;
  }
}
