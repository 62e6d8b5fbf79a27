import { hash } from 'node:crypto';
import type { Clock, TokenVerifier, VerifiedOpTok } from '@signer/core';

export const DEFAULT_TOKEN_CACHE_MAX_ENTRIES = 10_000;
/** A verified token is re-verified at least this often, even when it lives longer. */
export const DEFAULT_TOKEN_CACHE_MAX_TTL_SECONDS = 300;

export interface CachingTokenVerifierOptions {
  inner: TokenVerifier;
  clock: Clock;
  maxEntries?: number;
  maxTtlSeconds?: number;
  /**
   * The key set's generation (see RemoteJwks): an entry verified under another generation is
   * verified again, so a key the Authority withdrew stops working at the next refresh, not at `exp`.
   */
  keyGeneration?: () => number;
  onCacheHit?: () => void;
}

interface Entry {
  token: VerifiedOpTok;
  expiresAtMs: number;
  generation: number;
}

/**
 * Verified-token cache (decorator over {@link TokenVerifier}): a caller presents the same OpTok on
 * every request for its lifetime, so the signature and claim checks run once per token and
 * steady-state requests pay only the DPoP proof verification.
 *
 * Safety: keyed by SHA-256 of the exact token string (canonical JWS only, see
 * isCanonicalCompactJws), positive results only, an entry never outlives the token's `exp`, and
 * the result is frozen. It caches the token check alone — sender binding (DPoP proof, client
 * certificate) and scope are checked on every request by the caller of this port.
 */
export class CachingTokenVerifier implements TokenVerifier {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<VerifiedOpTok>>();
  private readonly maxEntries: number;
  private readonly maxTtlMs: number;

  constructor(private readonly options: CachingTokenVerifierOptions) {
    this.maxEntries = options.maxEntries ?? DEFAULT_TOKEN_CACHE_MAX_ENTRIES;
    this.maxTtlMs = (options.maxTtlSeconds ?? DEFAULT_TOKEN_CACHE_MAX_TTL_SECONDS) * 1000;
    if (!Number.isSafeInteger(this.maxEntries) || this.maxEntries < 1)
      throw new RangeError('maxEntries: expected a positive integer');
    if (!(this.maxTtlMs >= 0)) throw new RangeError('maxTtlSeconds: expected a non-negative number');
  }

  get size(): number {
    return this.entries.size;
  }

  async verify(token: string): Promise<VerifiedOpTok> {
    const key = hash('sha256', token, 'base64url');
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      if (hit.expiresAtMs > this.nowMs() && hit.generation === this.generation()) {
        this.entries.set(key, hit); // most recently used goes last
        this.options.onCacheHit?.();
        return hit.token;
      }
    }
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const verification = this.verifyAndStore(key, token).finally(() => this.inflight.delete(key));
    this.inflight.set(key, verification);
    return verification;
  }

  private async verifyAndStore(key: string, token: string): Promise<VerifiedOpTok> {
    const generation = this.generation();
    const verified = deepFreeze(await this.options.inner.verify(token));
    const nowMs = this.nowMs();
    const expiresAtMs = Math.min(verified.expiresAt * 1000, nowMs + this.maxTtlMs);
    if (expiresAtMs > nowMs) {
      if (this.entries.size >= this.maxEntries) this.evictOldest();
      this.entries.set(key, { token: verified, expiresAtMs, generation });
    }
    return verified;
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next();
    if (oldest.done !== true) this.entries.delete(oldest.value);
  }

  private generation(): number {
    return this.options.keyGeneration?.() ?? 0;
  }

  private nowMs(): number {
    return this.options.clock.now().getTime();
  }
}

function deepFreeze(token: VerifiedOpTok): VerifiedOpTok {
  Object.freeze(token.scopes);
  Object.freeze(token.confirmation);
  return Object.freeze(token);
}
