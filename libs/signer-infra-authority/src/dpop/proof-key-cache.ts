import type { KeyObject } from 'node:crypto';

/** What a proof's protected header establishes once checked: its algorithm, key and key thumbprint. */
export interface ProofKey {
  alg: string;
  /** RFC 7638 thumbprint of the header's `jwk`. */
  thumbprint: string;
  key: KeyObject;
}

/** Longer encoded headers are checked every time rather than kept. */
const MAX_CACHED_HEADER_LENGTH = 2048;

/**
 * Checked proof headers by their encoded segment. A caller sends the same header (typ, alg, jwk)
 * with every proof, so parsing it, computing the thumbprint and importing the key happen once per
 * caller key instead of once per request. Only headers that passed every check are kept (a load
 * that throws stores nothing); the same segment always decodes to the same header, so a hit is
 * exactly what checking again would give. Bounded; oldest first out.
 */
export class ProofKeyCache {
  private readonly entries = new Map<string, ProofKey>();

  constructor(private readonly maxEntries = 10_000) {}

  get(encodedHeader: string, load: () => ProofKey): ProofKey {
    const hit = this.entries.get(encodedHeader);
    if (hit) return hit;
    const loaded = load();
    if (encodedHeader.length > MAX_CACHED_HEADER_LENGTH) return loaded;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(encodedHeader, loaded);
    return loaded;
  }
}
