import { createHash, timingSafeEqual } from 'node:crypto';
import {
  SignerError,
  type Clock,
  type NonceStore,
  type PresentedCredentials,
  type ReplayCache,
  type VerifiedOpTok,
} from '@signer/core';
import { isCanonicalCompactJws } from '../jws/compact-jws';
import { jwkThumbprint } from '../jws/jwk-thumbprint';
import { importPublicJwk, verifyCompactJws } from '../jws/node-jws';
import { normalizeHtu } from './htu';
import { PublicKeyCache } from './public-key-cache';

type JsonObject = Record<string, unknown>;

/** RFC 9449 §5.1: asymmetric algorithms a proof may use here. */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256'] as const;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export type NonceMode = 'required' | 'optional';

export interface DpopProofVerifierOptions {
  algorithms: readonly string[];
  clockSkewSeconds: number;
  nonce: NonceMode;
  nonces: NonceStore;
  replay: ReplayCache;
  clock: Clock;
}

const refuse = (message: string, cause?: unknown) =>
  new SignerError('invalid_dpop_proof', message, { cause });

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * A proof member for an operator message. Never String(): a JSON object with a `toString` member
 * makes it throw a TypeError, which would surface as a 500 instead of the refusal.
 */
function shown(value: unknown): string {
  return typeof value === 'string' ? value : typeof value;
}

/** A JWS segment as a JSON object, or a refusal. */
function decodeSegment(segment: string, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch (error) {
    throw refuse(`expected a decodable proof ${what}`, error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw refuse(`expected a JSON object as proof ${what}`);
  return value as JsonObject;
}

/**
 * Verifies a DPoP proof per RFC 9449 §4.3 and binds it to the OpTok (`cnf.jkt`, `ath`). Checks run
 * in the RFC's order; the `jti` is consumed last, so a refused proof burns nothing.
 */
export class DpopProofVerifier {
  private readonly keys = new PublicKeyCache();

  constructor(private readonly options: DpopProofVerifierOptions) {}

  /** Returns the proof key's RFC 7638 thumbprint. */
  async verify(token: VerifiedOpTok, credentials: PresentedCredentials): Promise<string> {
    const proof = credentials.dpopProof;
    if (!proof) throw refuse('expected a DPoP header, got none');
    if (!isCanonicalCompactJws(proof)) throw refuse('expected one canonical compact JWS');
    const [encodedHeader, encodedPayload] = proof.split('.');
    const header = decodeSegment(encodedHeader, 'header');
    if (header['typ'] !== 'dpop+jwt') throw refuse(`expected typ dpop+jwt, got ${shown(header['typ'])}`);
    const alg = header['alg'];
    if (typeof alg !== 'string' || !this.options.algorithms.includes(alg)) {
      throw refuse(`expected an allowed asymmetric alg, got ${shown(alg)}`);
    }
    // RFC 7515 §4.1.11: a critical extension we do not understand makes the JWS invalid.
    if ('crit' in header) throw refuse('expected no crit header parameter');
    const jwk = header['jwk'];
    if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk))
      throw refuse('expected a public jwk in the header, got none');
    if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk))
      throw refuse('expected a public jwk, got private key material');

    // The signature is checked synchronously with node:crypto (WebCrypto's async jobs cost more
    // than the verification itself on this path); the imported key is cached by thumbprint.
    const thumbprint = jwkThumbprint(jwk as JsonObject);
    if (!thumbprint) throw refuse('expected a complete public jwk');
    let verified: boolean;
    try {
      const key = this.keys.get(`${alg}:${thumbprint}`, () => importPublicJwk(jwk as JsonObject, alg));
      verified = verifyCompactJws(proof, key, alg);
    } catch (error) {
      throw refuse('expected a jwk usable with the proof alg', error);
    }
    if (!verified) throw refuse('proof refused: signature verification failed');
    const payload = decodeSegment(encodedPayload, 'payload');

    this.checkClaims(payload, credentials);
    if (!token.confirmation.jkt || !safeEqual(thumbprint, token.confirmation.jkt)) {
      throw refuse('expected the proof key thumbprint to equal cnf.jkt, got another key');
    }
    await this.checkNonce(payload['nonce']);
    // The proof is refused by the iat check once now > iat + skew, so its jti only needs
    // remembering until then (+1 s for rounding): a shorter TTL keeps the replay cache small under
    // sustained load. The key is a fixed-size hash so hostile jti lengths cost nothing extra.
    const now = Math.floor(this.options.clock.now().getTime() / 1000);
    const ttl = Math.max(1, (payload['iat'] as number) + this.options.clockSkewSeconds + 1 - now);
    const replayKey = createHash('sha256')
      .update(`${thumbprint}:${payload['jti'] as string}`)
      .digest('base64url')
      .slice(0, 22);
    if (!(await this.options.replay.firstSeen(`dpop:${replayKey}`, ttl))) {
      throw refuse('expected a fresh jti, got a replayed proof');
    }
    return thumbprint;
  }

  private checkClaims(payload: JsonObject, credentials: PresentedCredentials): void {
    const { jti, htm, htu, iat, ath, exp, nbf } = payload;
    if (typeof jti !== 'string' || jti.length < 8 || jti.length > 256)
      throw refuse('expected a jti of 8..256 chars');
    if (htm !== credentials.method) throw refuse(`expected htm ${credentials.method}, got ${shown(htm)}`);
    const expected = normalizeHtu(credentials.htu);
    if (typeof htu !== 'string' || expected === null || normalizeHtu(htu) !== expected) {
      throw refuse(`expected htu ${expected ?? '(unusable request URL)'}, got another URL`);
    }
    if (typeof iat !== 'number') throw refuse('expected a numeric iat, got none');
    const now = Math.floor(this.options.clock.now().getTime() / 1000);
    const skew = this.options.clockSkewSeconds;
    if (Math.abs(now - iat) > skew) throw refuse(`expected iat within ${skew}s of ${now}, got ${iat}`);
    // Proofs rarely carry exp/nbf; when they do, they are honoured like any JWT's (RFC 7519 §4.1).
    if (exp !== undefined && (typeof exp !== 'number' || exp < now - skew))
      throw refuse('expected an unexpired proof');
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + skew))
      throw refuse('expected a proof already valid');
    const expectedAth = createHash('sha256').update(credentials.token).digest('base64url');
    if (typeof ath !== 'string' || !safeEqual(ath, expectedAth))
      throw refuse('expected ath to hash the presented OpTok');
  }

  private async checkNonce(nonce: unknown): Promise<void> {
    if (nonce === undefined && this.options.nonce === 'optional') return;
    if (typeof nonce === 'string' && (await this.options.nonces.isValid(nonce))) return;
    throw new SignerError(
      'use_dpop_nonce',
      nonce === undefined
        ? 'expected a server nonce, got none'
        : 'expected a current server nonce, got a stale or unknown one',
      {
        dpopNonce: await this.options.nonces.issue(),
      },
    );
  }
}
