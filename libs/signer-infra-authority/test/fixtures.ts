import type { NonceStore, ReplayCache } from '@signer/core';

/** Minimal in-memory ports with the real contract (single use, issued-only), for unit tests. */
export class SetReplayCache implements ReplayCache {
  readonly seen = new Set<string>();
  readonly ttls: number[] = [];
  async firstSeen(key: string, ttlSeconds: number): Promise<boolean> {
    this.ttls.push(ttlSeconds);
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }
}

export class ListNonceStore implements NonceStore {
  readonly issued: string[] = [];
  async issue(): Promise<string> {
    const nonce = `nonce-${this.issued.length + 1}-abcdefghijkl`;
    this.issued.push(nonce);
    return nonce;
  }
  async isValid(nonce: string): Promise<boolean> {
    return this.issued.includes(nonce);
  }
}
