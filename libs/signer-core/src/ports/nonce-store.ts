/**
 * Server-issued DPoP nonces (RFC 9449 §8). Contract: `issue` returns an unpredictable value;
 * `isValid` is true only for a value issued within the TTL, by any replica sharing the store.
 */
export interface NonceStore {
  issue(): Promise<string>;
  isValid(nonce: string): Promise<boolean>;
}
