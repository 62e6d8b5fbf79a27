import { SignerError, upstreamUrlProblem, type Clock } from '@signer/core';
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';
import { DocumentFetchError, fetchJsonObject } from './fetch-json';
import { discoverJwksUri } from './oidc-discovery';

export const DEFAULT_JWKS_REFRESH_SECONDS = 300;
export const DEFAULT_JWKS_COOLDOWN_SECONDS = 30;
export const DEFAULT_JWKS_TIMEOUT_MS = 3000;
export const DEFAULT_JWKS_MAX_STALE_SECONDS = 3600;

/** Where the keys are: a JWKS URL, or the issuer whose OIDC discovery document names one. */
export type JwksLocation = { jwksUri: string } | { issuer: string };

export interface RemoteJwksOptions {
  location: JwksLocation;
  clock: Clock;
  fetch?: typeof fetch;
  /** Known keys older than this are refreshed in the background on the next use. */
  refreshSeconds?: number;
  /** At most one fetch (periodic or for an unknown `kid`) per this many seconds, success or not. */
  cooldownSeconds?: number;
  /** Per HTTP exchange (connect and body). */
  timeoutMs?: number;
  /** Known keys keep serving while the Authority is down, but never longer than this after their fetch. */
  maxStaleSeconds?: number;
}

interface KeySet {
  lookup: JWTVerifyGetKey;
  fingerprint: string;
  fetchedAtMs: number;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * The Authority's signing keys fetched over HTTP (contract §3), from `jwksUri` or through OIDC
 * discovery. Unlike jose's `createRemoteJWKSet`, a failed refresh keeps the known keys (bounded by
 * `maxStaleSeconds`), the cooldown also applies to failed fetches (an Authority outage is not
 * hammered), and time comes from the injected clock.
 *
 * Refusals: a `kid` still unknown after a refresh is jose's no-matching-key error (→
 * `invalid_token`); no usable keys because the Authority cannot be reached is `upstream_unavailable`.
 */
export class RemoteJwks {
  private keys?: KeySet;
  private jwksUri?: string;
  private lastAttemptMs = Number.NEGATIVE_INFINITY;
  private lastError?: Error;
  private inflight?: Promise<void>;
  private generationCount = 0;
  private readonly refreshMs: number;
  private readonly cooldownMs: number;
  private readonly maxStaleMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: RemoteJwksOptions) {
    this.refreshMs = seconds('refreshSeconds', options.refreshSeconds ?? DEFAULT_JWKS_REFRESH_SECONDS);
    this.cooldownMs = seconds('cooldownSeconds', options.cooldownSeconds ?? DEFAULT_JWKS_COOLDOWN_SECONDS);
    this.maxStaleMs = seconds('maxStaleSeconds', options.maxStaleSeconds ?? DEFAULT_JWKS_MAX_STALE_SECONDS);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS;
    if (!(this.timeoutMs > 0)) throw new RangeError('timeoutMs: expected a positive number');
    if (this.maxStaleMs < this.refreshMs)
      throw new RangeError('maxStaleSeconds: expected at least refreshSeconds');
    const [name, url] =
      'jwksUri' in options.location
        ? ['jwksUri', options.location.jwksUri]
        : ['issuer', options.location.issuer];
    // Fail fast, as configuration validation does: https, or plain http on loopback only.
    const problem = upstreamUrlProblem(url);
    if (problem) throw new RangeError(`${name}: ${problem}`);
    if ('jwksUri' in options.location) this.jwksUri = options.location.jwksUri;
  }

  /** Changes whenever the published key set changes: caches of verified tokens compare it. */
  get generation(): number {
    return this.generationCount;
  }

  /** The jose key resolver for `jwtVerify`. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const keys = await this.currentKeys();
    try {
      return await keys.lookup(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      // An unknown kid may be a key the Authority just rotated in: look again, rate-limited.
      const refreshed = await this.refreshForUnknownKid(error);
      return refreshed.lookup(header, token);
    }
  };

  /** Fetches the key set now (one fetch at a time). Rejects when it cannot; known keys are kept. */
  refresh(): Promise<void> {
    if (!this.inflight) {
      this.lastAttemptMs = this.nowMs();
      this.inflight = this.fetchKeys().finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  /** Resolves once no fetch is running (tests, shutdown). */
  async settled(): Promise<void> {
    await this.inflight?.catch(() => undefined);
  }

  /** True when keys are held and not beyond `maxStaleSeconds`. */
  hasUsableKeys(): boolean {
    return this.keys !== undefined && this.nowMs() - this.keys.fetchedAtMs <= this.maxStaleMs;
  }

  /**
   * For readiness probes: resolves when usable keys are held, fetching them if the cooldown allows
   * (a probe on a Signer that has no traffic yet is what first reaches the Authority); otherwise
   * rejects with `upstream_unavailable`.
   */
  async ready(): Promise<void> {
    await this.currentKeys();
  }

  private async currentKeys(): Promise<KeySet> {
    const now = this.nowMs();
    if (this.keys && now - this.keys.fetchedAtMs > this.maxStaleMs) this.keys = undefined;
    if (!this.keys) {
      if (this.inflight) await this.settled();
      else if (!this.coolingDown(now)) await this.refresh().catch(() => undefined);
      if (!this.keys) throw this.unavailable();
      return this.keys;
    }
    if (now - this.keys.fetchedAtMs >= this.refreshMs && !this.coolingDown(now)) {
      // Periodic refresh in the background: the known keys answer this request.
      this.refresh().catch(() => undefined);
    }
    return this.keys;
  }

  private async refreshForUnknownKid(notFound: Error): Promise<KeySet> {
    if (this.inflight) await this.settled();
    else if (!this.coolingDown(this.nowMs())) await this.refresh().catch(() => undefined);
    else if (!this.lastError) throw notFound;
    if (this.lastError || !this.keys) throw this.unavailable();
    return this.keys;
  }

  private async fetchKeys(): Promise<void> {
    try {
      const fetchOptions = { fetch: this.options.fetch ?? globalThis.fetch, timeoutMs: this.timeoutMs };
      if (!this.jwksUri && 'issuer' in this.options.location) {
        this.jwksUri = await discoverJwksUri(this.options.location.issuer, fetchOptions);
      }
      const document = await fetchJsonObject(this.jwksUri as string, fetchOptions);
      const jwks = usableKeys(document);
      const fingerprint = JSON.stringify(jwks.keys);
      if (fingerprint !== this.keys?.fingerprint) this.generationCount += 1;
      this.keys = { lookup: createLocalJWKSet(jwks), fingerprint, fetchedAtMs: this.nowMs() };
      this.lastError = undefined;
    } catch (error) {
      this.lastError = error instanceof Error ? error : new Error(String(error));
      throw this.lastError;
    }
  }

  private unavailable(): SignerError {
    const waitMs = this.lastAttemptMs + this.cooldownMs - this.nowMs();
    return new SignerError('upstream_unavailable', 'authority keys unavailable', {
      upstream: 'authority',
      retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
      cause: this.lastError,
    });
  }

  private coolingDown(nowMs: number): boolean {
    return nowMs - this.lastAttemptMs < this.cooldownMs;
  }

  private nowMs(): number {
    return this.options.clock.now().getTime();
  }
}

/**
 * The signature keys of a JWKS document. A document carrying private or symmetric key material is
 * refused as a whole (the Authority is misconfigured; its other keys are suspect too); encryption
 * keys are dropped, since an OpTok is only ever verified with an asymmetric signature key.
 */
function usableKeys(document: Record<string, unknown>): JSONWebKeySet {
  const keys = document['keys'];
  if (!Array.isArray(keys)) throw new DocumentFetchError('JWKS: expected a "keys" array');
  const usable: JWK[] = [];
  for (const key of keys) {
    if (typeof key !== 'object' || key === null || typeof (key as JWK).kty !== 'string')
      throw new DocumentFetchError('JWKS: expected every key to be an object with kty');
    const jwk = key as JWK;
    if (PRIVATE_MEMBERS.some((member) => member in jwk))
      throw new DocumentFetchError('JWKS: refused, it carries private or symmetric key material');
    if (jwk.use === 'enc') continue;
    usable.push(jwk);
  }
  return { keys: usable };
}

function seconds(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name}: expected a non-negative number`);
  return value * 1000;
}
