import type { ReleaseVerdict } from '../model';
import type { ReleaseVerifier } from '../ports/release-verifier';
import type { TtlCache } from '../ports/ttl-cache';

export interface CachingReleaseVerifierOptions {
  inner: ReleaseVerifier;
  cache: TtlCache<ReleaseVerdict>;
  cacheTtlSeconds: number;
  negativeCacheTtlSeconds: number;
  onCacheHit?: () => void;
}

/**
 * Release verdicts cached by digest (contract §5): trusted ones for `cacheTtlSeconds`, untrusted
 * ones for `negativeCacheTtlSeconds`; errors (source unreachable) are never cached. Concurrent
 * checks of one digest make one walk.
 */
export class CachingReleaseVerifier implements ReleaseVerifier {
  private readonly inflight = new Map<string, Promise<ReleaseVerdict>>();

  constructor(private readonly options: CachingReleaseVerifierOptions) {}

  async verify(digest: string): Promise<ReleaseVerdict> {
    const cached = await this.options.cache.get(digest);
    if (cached) {
      this.options.onCacheHit?.();
      return cached;
    }
    const pending = this.inflight.get(digest);
    if (pending) return pending;
    const walk = this.walk(digest).finally(() => this.inflight.delete(digest));
    this.inflight.set(digest, walk);
    return walk;
  }

  private async walk(digest: string): Promise<ReleaseVerdict> {
    const verdict = await this.options.inner.verify(digest);
    const ttl = verdict.trusted ? this.options.cacheTtlSeconds : this.options.negativeCacheTtlSeconds;
    await this.options.cache.set(digest, verdict, ttl);
    return verdict;
  }
}
