import type { KeyObject } from 'node:crypto';

/**
 * Imported DPoP public keys by `alg:thumbprint`: importing a JWK on every request would cost as
 * much as the verification, and a caller reuses its key for many proofs. Bounded; oldest first out.
 */
export class PublicKeyCache {
  private readonly entries = new Map<string, KeyObject>();

  constructor(private readonly maxEntries = 10_000) {}

  get(id: string, load: () => KeyObject): KeyObject {
    const hit = this.entries.get(id);
    if (hit) return hit;
    const loaded = load();
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(id, loaded);
    return loaded;
  }
}
