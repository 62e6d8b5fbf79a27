import { CallerAuthenticator, type Clock } from '@signer/core';
import {
  DpopProofVerifier,
  loadJwksFile,
  OpTokVerifier,
  TokenBindingVerifier,
} from '@signer/infra-authority';
import type { SignerConfig } from '../config/config-schema';
import type { SharedState } from './shared-state';

/** Gates 1–3: OpTok (JWKS), sender binding (DPoP / mTLS), scope. */
export async function createAuthenticator(
  config: SignerConfig,
  state: SharedState,
  clock: Clock,
): Promise<CallerAuthenticator> {
  const { authority } = config;
  const keys = await loadJwksFile(authority.jwksFile as string);
  const tokens = new OpTokVerifier({
    getKey: keys.getKey,
    issuer: authority.issuer,
    audience: authority.audience,
    algorithms: authority.allowedAlgorithms,
    clockSkewSeconds: authority.clockSkewSeconds,
    clock,
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
  return new CallerAuthenticator(
    tokens,
    new TokenBindingVerifier({ senderConstraint: authority.senderConstraint, dpop }),
    authority.requiredScope,
  );
}
