import { hash } from 'node:crypto';
import { SignerError } from '../errors';
import type { EntitlementClaims } from '../model';
import type { Clock } from '../ports/clock';
import type { EntitlementVerifier, PoePresentation } from '../ports/entitlement-verifier';
import type { TtlCache } from '../ports/ttl-cache';

export type CachedEntitlement =
  { kind: 'claims'; claims: EntitlementClaims } | { kind: 'denied'; message: string };

export interface CachingEntitlementVerifierOptions {
  inner: EntitlementVerifier;
  cache: TtlCache<CachedEntitlement>;
  clock: Clock;
  cacheTtlSeconds: number;
  negativeCacheTtlSeconds: number;
  onCacheHit?: () => void;
}

/**
 * The PoE decision cache of contract §4, keyed by SHA-256 of the PoE: an active decision lives
 * `min(cacheTtlSeconds, exp - now)`, a negative one (inactive, revoked, or a PoE Licensing
 * refuses) `negativeCacheTtlSeconds`; transport errors are never cached. Concurrent misses for
 * one PoE share one upstream call.
 */
export class CachingEntitlementVerifier implements EntitlementVerifier {
  private readonly inflight = new Map<string, Promise<EntitlementClaims>>();

  constructor(private readonly options: CachingEntitlementVerifierOptions) {}

  async verify(poe: PoePresentation): Promise<EntitlementClaims> {
    const key = cacheKey(poe);
    const cached = await this.options.cache.get(key);
    if (cached) {
      this.options.onCacheHit?.();
      if (cached.kind === 'denied') throw new SignerError('entitlement_denied', cached.message);
      return cached.claims;
    }
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const lookup = this.lookup(key, poe).finally(() => this.inflight.delete(key));
    this.inflight.set(key, lookup);
    return lookup;
  }

  private async lookup(key: string, poe: PoePresentation): Promise<EntitlementClaims> {
    const { inner, cache, clock, cacheTtlSeconds, negativeCacheTtlSeconds } = this.options;
    try {
      const claims = await inner.verify(poe);
      const nowSeconds = Math.floor(clock.now().getTime() / 1000);
      // An expired licence is a negative decision too: cache it as one rather than not at all.
      const positive = claims.active && !claims.revoked && claims.expiresAt > nowSeconds;
      const ttl = positive
        ? Math.min(cacheTtlSeconds, claims.expiresAt - nowSeconds)
        : negativeCacheTtlSeconds;
      await cache.set(key, { kind: 'claims', claims }, ttl);
      return claims;
    } catch (error) {
      if (error instanceof SignerError && error.code === 'entitlement_denied') {
        await cache.set(key, { kind: 'denied', message: error.message }, negativeCacheTtlSeconds);
      }
      throw error;
    }
  }
}

/** SHA-256 over `format \0 value` (the JWT text, or the client certificate's DER). */
function cacheKey(poe: PoePresentation): string {
  if (poe.format === 'jwt') return hash('sha256', `${poe.format}\0${poe.value ?? ''}`, 'base64url');
  const prefix = Buffer.from(`${poe.format}\0`, 'utf8');
  return hash('sha256', Buffer.concat([prefix, poe.clientCertificate ?? Buffer.alloc(0)]), 'base64url');
}
