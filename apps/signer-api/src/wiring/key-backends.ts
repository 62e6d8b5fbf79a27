import { SignerError, spkiFingerprint, type RegisteredKeyMaterial } from '@signer/core';
import { parseKeyRef } from '@signer/infra-kms';
import type { SignerConfig } from '../config/config-schema';
import { createSignerForRef, type BuiltSigner, type KeyConfig, type SignerContext } from './key-signers';

/**
 * Backend settings for a managed key: its own `signing.keys` entry when that names the same
 * reference; otherwise (a key registered by a ceremony) the connection settings of the first
 * configured key of the same scheme — the same KMS account and endpoint — and none of its limits.
 */
function settingsFor(config: SignerConfig, name: string, ref: string): KeyConfig {
  const own = config.signing.keys[name];
  if (own?.ref === ref) return own;
  const scheme = parseKeyRef(ref).scheme;
  const sibling = Object.keys(config.signing.keys)
    .sort()
    .map((n) => config.signing.keys[n])
    .find((k) => parseKeyRef(k.ref).scheme === scheme);
  return { ref, endpoint: sibling?.endpoint, region: sibling?.region };
}

/** Backend signers by (name, ref), built once; closed with the runtime. */
export class KeyBackends {
  private readonly built = new Map<string, Promise<BuiltSigner>>();

  constructor(
    private readonly config: SignerConfig,
    private readonly context: SignerContext,
  ) {}

  get(name: string, ref: string): Promise<BuiltSigner> {
    const id = `${name}\n${ref}`;
    let signer = this.built.get(id);
    if (!signer) {
      signer = createSignerForRef(name, settingsFor(this.config, name, ref), this.context);
      signer.catch(() => this.built.delete(id));
      this.built.set(id, signer);
    }
    return signer;
  }

  /**
   * Loads a reference once to learn its public key, then lets it go (`key.register`). A reference
   * that does not parse or load is the ceremony's problem, not the server's: `key_state_conflict`.
   */
  async inspect(ref: string): Promise<RegisteredKeyMaterial> {
    let built: BuiltSigner;
    try {
      built = await createSignerForRef('registration', settingsFor(this.config, '', ref), this.context);
    } catch (error) {
      if (error instanceof SignerError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new SignerError('key_state_conflict', `key reference cannot be registered: ${reason}`, {
        cause: error,
      });
    }
    const { signer, close } = built;
    try {
      const { publicKeyPem } = await signer.describe();
      return { keyId: spkiFingerprint(publicKeyPem), algorithm: signer.algorithm, publicKeyPem };
    } finally {
      await close?.();
    }
  }

  async close(): Promise<void> {
    const all = await Promise.allSettled(this.built.values());
    await Promise.allSettled(all.map((r) => (r.status === 'fulfilled' ? r.value.close?.() : undefined)));
  }
}
