import { SignerError } from '../errors';
import type { SigningMode } from '../model';
import type { Clock } from '../ports/clock';
import type { KeySigner } from '../ports/key-signer';
import type { KeySignerRegistry, ResolveContext } from '../ports/key-signer-registry';
import { ManagedKeySigner } from './managed-key-signer';
import type { ManagedKey } from './managed-state';
import type { ManagedStateView } from './managed-state-view';
import type { RotationProfile } from './rotation-profile';
import { signingBlocker } from './rotation-profile';

/** Builds the signer behind a managed key's reference (the one per-scheme construction). */
export type ManagedSignerFactory = (key: ManagedKey) => Promise<KeySigner>;

export interface ManagedKeySignerRegistryOptions {
  view: ManagedStateView;
  factory: ManagedSignerFactory;
  keyless?: KeySigner;
  clock: Clock;
  profiles: Readonly<Record<string, RotationProfile>>;
}

const cacheKey = (key: ManagedKey) => `${key.name}\n${key.ref}\n${key.keyId}`;

/**
 * Resolves requests against the managed state (contract §11): a key named by label or by
 * fingerprint, else the plan's default, else the installation's. Only a key that may sign now is
 * returned (`key_not_active` otherwise); signers are built once per (name, ref, keyId) and dropped
 * when their key leaves the state or can never sign again.
 */
export class ManagedKeySignerRegistry implements KeySignerRegistry {
  private readonly signers = new Map<string, ManagedKeySigner>();

  constructor(private readonly options: ManagedKeySignerRegistryOptions) {
    options.view.onChange(() => this.prune());
  }

  resolve(mode: SigningMode, keyId: string | undefined, context: ResolveContext = {}): KeySigner {
    if (mode === 'keyless') return this.resolveKeyless(keyId);
    if (mode !== 'kms')
      throw new SignerError('invalid_request', `expected signing mode kms or keyless, got "${String(mode)}"`);
    const signer = this.resolveKms(keyId, context);
    return keyId === undefined ? this.followingDefault(signer, context) : signer;
  }

  private resolveKms(keyId: string | undefined, context: ResolveContext): ManagedKeySigner {
    const state = this.options.view.current();
    const wanted =
      keyId ??
      (context.plan !== undefined ? state.defaults.plans[context.plan] : undefined) ??
      state.defaults.installation;
    if (wanted === undefined)
      throw new SignerError('invalid_request', 'no keyId given and no default signing key is configured');
    const key = state.keys.find((k) => k.name === wanted) ?? state.keys.find((k) => k.keyId === wanted);
    if (!key) throw new SignerError('invalid_request', `unknown signing key "${wanted}"`);
    const blocker = signingBlocker(key, this.options.clock.now(), this.options.profiles[key.profile]);
    if (blocker !== undefined) throw new SignerError('key_not_active', blocker);
    return this.signerFor(key);
  }

  /**
   * A request that names no key asked for "the default", which a rotation moves: set-default to
   * the successor, then retire the old key. A replica whose view passes both commits between
   * resolving and signing would refuse such a request `key_not_active` although a default may
   * sign. So when the resolved key may no longer sign, it signs once more with the default of
   * the current view, if that is another key (a discarded signature never leaves). A named key
   * never changes: naming one is how a caller pins it.
   */
  private followingDefault(first: ManagedKeySigner, context: ResolveContext): KeySigner {
    return {
      keyId: first.keyId,
      mode: first.mode,
      algorithm: first.algorithm,
      describe: () => first.describe(),
      sign: async (data) => {
        try {
          return await first.sign(data);
        } catch (error) {
          if (!(error instanceof SignerError) || error.code !== 'key_not_active') throw error;
          const now = this.currentDefault(context);
          if (now === undefined || now.keyId === first.keyId) throw error;
          return now.sign(data);
        }
      },
    };
  }

  /** The default that may sign now, if any (a request's own refusal explains the rest). */
  private currentDefault(context: ResolveContext): ManagedKeySigner | undefined {
    try {
      return this.resolveKms(undefined, context);
    } catch {
      return undefined;
    }
  }

  /** The keyless signer and one signer per key that may still sign (built lazily). */
  all(): readonly KeySigner[] {
    const keys = this.options.view.snapshot().keys.filter((k) => k.state === 'active');
    return [...keys.map((k) => this.signerFor(k)), ...(this.options.keyless ? [this.options.keyless] : [])];
  }

  /** Builds the signers of every active or pending key now, so the first request does not wait. */
  async warm(): Promise<void> {
    const keys = this.options.view
      .snapshot()
      .keys.filter((k) => k.state === 'active' || k.state === 'pending');
    await Promise.all(keys.map((k) => this.signerFor(k).ready()));
  }

  private signerFor(key: ManagedKey): ManagedKeySigner {
    const id = cacheKey(key);
    let signer = this.signers.get(id);
    if (!signer) {
      signer = new ManagedKeySigner({ key, ...this.options });
      this.signers.set(id, signer);
    }
    return signer;
  }

  // Bounded by the state: a signer survives only while its key may still sign.
  private prune(): void {
    const live = new Set(
      this.options.view
        .snapshot()
        .keys.filter((k) => k.state === 'active' || k.state === 'pending')
        .map(cacheKey),
    );
    for (const id of this.signers.keys()) if (!live.has(id)) this.signers.delete(id);
    void this.warm().catch(() => undefined);
  }

  // A keyId in keyless mode names a key the caller expected to be used; honouring the mode anyway
  // would be the silent fallback the port forbids, so only the keyless signer's own id is accepted.
  private resolveKeyless(keyId: string | undefined): KeySigner {
    const keyless = this.options.keyless;
    if (!keyless) throw new SignerError('invalid_request', 'signing mode "keyless" is not configured');
    if (keyId !== undefined && keyId !== keyless.keyId)
      throw new SignerError('invalid_request', `signing key "${keyId}" is not available in keyless mode`);
    return keyless;
  }
}
