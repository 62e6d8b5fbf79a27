import type { CryptoKey, KeyObject } from 'jose';

type ImportedKey = CryptoKey | KeyObject | Uint8Array;

/**
 * Imported DPoP public keys by thumbprint and alg: importing a JWK on every request halves
 * throughput (toolchain notes), and a caller reuses its key for many proofs. Bounded.
 */
export class PublicKeyCache {
  private readonly entries = new Map<string, Promise<ImportedKey>>();

  constructor(private readonly maxEntries = 10_000) {}

  get(thumbprint: string, alg: string, load: () => Promise<ImportedKey>): Promise<ImportedKey> {
    const id = `${alg}:${thumbprint}`;
    const hit = this.entries.get(id);
    if (hit) return hit;
    const loaded = load();
    loaded.catch(() => this.entries.delete(id));
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(id, loaded);
    return loaded;
  }
}
