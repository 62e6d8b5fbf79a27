import { CallerAuthenticator, type Clock, type TokenVerifier } from '@signer/core';
import {
  CachingTokenVerifier,
  DpopProofVerifier,
  loadJwksFile,
  OpTokVerifier,
  RemoteJwks,
  TokenBindingVerifier,
} from '@signer/infra-authority';
import type { JWTVerifyGetKey } from 'jose';
import type { SignerConfig } from '../config/config-schema';
import type { SignerMetrics } from '../observability/metrics';
import type { ReadinessCheck } from './readiness';
import type { SharedState } from './shared-state';

export interface AuthorityGate {
  authenticator: CallerAuthenticator;
  /** `/readyz`: remote Authority keys are held (none for a JWKS file, read at start). */
  readiness: ReadinessCheck[];
}

interface KeySource {
  getKey: JWTVerifyGetKey;
  generation?: () => number;
  readiness: ReadinessCheck[];
}

/** Authority keys: a JWKS file (read once, at start), or remote (jwksUri, else OIDC discovery). */
async function keySource(config: SignerConfig, clock: Clock): Promise<KeySource> {
  const { authority } = config;
  if (authority.jwksFile) {
    const keys = await loadJwksFile(authority.jwksFile);
    return { getKey: keys.getKey, readiness: [] };
  }
  const remote = new RemoteJwks({
    location: authority.jwksUri ? { jwksUri: authority.jwksUri } : { issuer: authority.issuer },
    clock,
    ...authority.jwksFetch,
  });
  // Warm the cache; an unreachable Authority is an outage (503, not ready), not a reason to exit.
  await remote.refresh().catch(() => undefined);
  return {
    getKey: remote.getKey,
    generation: () => remote.generation,
    readiness: [{ name: 'authority-keys', check: () => remote.ready() }],
  };
}

/** Gates 1–3: OpTok (JWKS, behind the verified-token cache), sender binding (DPoP / mTLS), scope. */
export async function createAuthenticator(
  config: SignerConfig,
  state: SharedState,
  clock: Clock,
  metrics?: SignerMetrics,
): Promise<AuthorityGate> {
  const { authority } = config;
  const keys = await keySource(config, clock);
  const tokens: TokenVerifier = new CachingTokenVerifier({
    inner: new OpTokVerifier({
      getKey: keys.getKey,
      issuer: authority.issuer,
      audience: authority.audience,
      algorithms: authority.allowedAlgorithms,
      clockSkewSeconds: authority.clockSkewSeconds,
      maxTokenLifetimeSeconds: authority.maxTokenLifetimeSeconds,
      clock,
    }),
    clock,
    maxEntries: authority.tokenCache.maxEntries,
    maxTtlSeconds: authority.tokenCache.maxTtlSeconds,
    keyGeneration: keys.generation,
    onCacheHit: () => metrics?.cacheHits.inc({ cache: 'optok' }),
  });
  const dpop = new DpopProofVerifier({
    // jose names Ed25519 proofs either EdDSA (RFC 8037) or Ed25519 (RFC 9864).
    algorithms: authority.allowedAlgorithms.flatMap((alg) =>
      alg === 'EdDSA' ? ['EdDSA', 'Ed25519'] : [alg],
    ),
    clockSkewSeconds: authority.clockSkewSeconds,
    nonce: authority.dpop.nonce,
    nonces: state.nonces(authority.dpop.nonceTtlSeconds),
    replay: state.replay,
    clock,
  });
  return {
    authenticator: new CallerAuthenticator(
      tokens,
      new TokenBindingVerifier({ senderConstraint: authority.senderConstraint, dpop }),
      authority.requiredScope,
    ),
    readiness: keys.readiness,
  };
}
