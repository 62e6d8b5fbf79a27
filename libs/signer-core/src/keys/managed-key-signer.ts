import { SignerError } from '../errors';
import type { PublicKeyInfo, SignatureResult } from '../model';
import type { Clock } from '../ports/clock';
import type { KeySigner } from '../ports/key-signer';
import { spkiFingerprint } from './key-fingerprint';
import type { ManagedKey } from './managed-state';
import type { ManagedStateView } from './managed-state-view';
import { signingBlocker, type RotationProfile } from './rotation-profile';

export interface ManagedKeySignerOptions {
  key: ManagedKey;
  view: ManagedStateView;
  factory: (key: ManagedKey) => Promise<KeySigner>;
  clock: Clock;
  profiles: Readonly<Record<string, RotationProfile>>;
}

/**
 * A managed key's signer: the backend signer behind its reference, published under the key's
 * fingerprint. The state is checked again before and after the backend signs, so a signature
 * leaves only if, at a moment after it was made, a view no older than the bound let the key sign.
 * The backend is built on first use and must hold the registered material (same fingerprint).
 */
export class ManagedKeySigner implements KeySigner {
  readonly keyId: string;
  readonly mode = 'kms' as const;
  readonly algorithm: string;
  private inner: Promise<KeySigner> | undefined;

  constructor(private readonly options: ManagedKeySignerOptions) {
    this.keyId = options.key.keyId;
    this.algorithm = options.key.algorithm;
  }

  /** The backend signer, built once; a failed build is retried on the next call. */
  ready(): Promise<KeySigner> {
    this.inner ??= this.build().catch((error: unknown) => {
      this.inner = undefined;
      throw error;
    });
    return this.inner;
  }

  async sign(data: Buffer): Promise<SignatureResult> {
    this.assertMaySign();
    const result = await (await this.ready()).sign(data);
    this.assertMaySign();
    return { ...result, dsseKeyId: this.keyId, identity: { ...result.identity, keyId: this.keyId } };
  }

  async describe(): Promise<PublicKeyInfo> {
    const { keyId, algorithm, publicKeyPem } = this.options.key;
    return { keyId, algorithm, publicKeyPem };
  }

  private assertMaySign(): void {
    const { key, view, clock, profiles } = this.options;
    const now = view.current().keys.find((k) => k.name === key.name && k.keyId === key.keyId);
    if (!now) throw new SignerError('key_not_active', `signing key "${key.name}" is no longer managed`);
    const blocker = signingBlocker(now, clock.now(), profiles[now.profile]);
    if (blocker !== undefined) throw new SignerError('key_not_active', blocker);
  }

  private async build(): Promise<KeySigner> {
    const { key, factory } = this.options;
    const signer = await factory(key);
    const found = spkiFingerprint((await signer.describe()).publicKeyPem);
    if (found !== key.keyId) {
      throw new SignerError(
        'key_not_active',
        `signing key "${key.name}": the material behind its reference is ${found}, expected ${key.keyId}`,
      );
    }
    return signer;
  }
}
