/**
 * A bounded cache whose entries expire. Contract: `get` never returns an entry past its TTL;
 * `ttlSeconds <= 0` stores nothing.
 */
export interface TtlCache<V> {
  get(key: string): Promise<V | undefined>;
  set(key: string, value: V, ttlSeconds: number): Promise<void>;
}
