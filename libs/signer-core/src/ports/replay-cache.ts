/**
 * Remembers single-use values (DPoP `jti`). Contract: `firstSeen` is atomic: for one key it
 * returns true exactly once within `ttlSeconds`, across every replica sharing the store.
 */
export interface ReplayCache {
  firstSeen(key: string, ttlSeconds: number): Promise<boolean>;
}
