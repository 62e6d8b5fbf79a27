import { hash, timingSafeEqual } from 'node:crypto';
import {
  SignerError,
  type Clock,
  type NonceStore,
  type PresentedCredentials,
  type ReplayCache,
  type VerifiedOpTok,
} from '@signer/core';
import { parseCompactJws } from '../jws/compact-jws';
import { jwkThumbprint } from '../jws/jwk-thumbprint';
import { importPublicJwk, UnacceptableKeyError, verifyJwsSignature } from '../jws/node-jws';
import { normalizeHtu } from './htu';
import { ProofKeyCache, type ProofKey } from './proof-key-cache';

type JsonObject = Record<string, unknown>;

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export type NonceMode = 'required' | 'optional';

/** Seconds a `jti` is remembered beyond the skew window, for rounding and the store's round trip. */
export const REPLAY_MARGIN_SECONDS = 5;

/**
 * How long a proof's `jti` must stay in the shared replay cache, counted from now on this
 * replica's clock. A replica accepts the proof while its own clock reads at most `iat + skew`;
 * another replica whose clock is behind this one by up to `skew` (the assumed bound between
 * replicas, see docs/authority.md) does so until this clock reads `iat + 2 × skew`. So the entry
 * lives until this clock reads `iat + 2 × skew + margin`: `2 × skew + margin` for a proof made now,
 * longer for one whose `iat` is ahead of this clock, never less than `skew + margin` (an older
 * proof is refused by the iat check).
 */
export function replayTtlSeconds(iat: number, nowSeconds: number, skewSeconds: number): number {
  return iat + 2 * skewSeconds + REPLAY_MARGIN_SECONDS - nowSeconds;
}

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

/** RFC 9449 §4.3 step 12: the proof key is the key the token is bound to. */
function checkBinding(thumbprint: string, token: VerifiedOpTok): void {
  if (!token.confirmation.jkt || !safeEqual(thumbprint, token.confirmation.jkt)) {
    throw refuse('expected the proof key thumbprint to equal cnf.jkt, got another key');
  }
}

/** A decoded JWS segment as a JSON object, or a refusal. */
function decodeSegment(segment: Buffer, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(segment.toString('utf8'));
  } catch (error) {
    throw refuse(`expected a decodable proof ${what}`, error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw refuse(`expected a JSON object as proof ${what}`);
  return value as JsonObject;
}

/**
 * Verifies a DPoP proof per RFC 9449 §4.3 and binds it to the OpTok (`cnf.jkt`, `ath`). The OpTok is
 * already verified, so the cheap comparison of the header key's thumbprint with `cnf.jkt` runs
 * before any key import or signature work: a proof under someone else's key costs one SHA-256.
 * The other checks follow the RFC's order; the `jti` is consumed last, so a refused proof burns
 * nothing.
 */
export class DpopProofVerifier {
  private readonly keys = new ProofKeyCache();
  /** The comparable form of each request URL seen (a handful: one per route and public origin). */
  private readonly expectedHtu = new Map<string, string | null>();

  constructor(private readonly options: DpopProofVerifierOptions) {}

  /** Returns the proof key's RFC 7638 thumbprint. */
  async verify(token: VerifiedOpTok, credentials: PresentedCredentials): Promise<string> {
    const proof = credentials.dpopProof;
    if (!proof) throw refuse('expected a DPoP header, got none');
    const jws = parseCompactJws(proof);
    if (!jws) throw refuse('expected one canonical compact JWS');
    // The signature is checked synchronously with node:crypto (WebCrypto's async jobs cost more
    // than the verification itself on this path); a checked header is cached with its key. On a
    // miss the binding is checked inside the load, before the key is imported; on a hit, here.
    const { alg, thumbprint, key } = this.keys.get(jws.encodedHeader, () => this.loadKey(jws.header, token));
    checkBinding(thumbprint, token);
    let verified: boolean;
    try {
      verified = verifyJwsSignature(jws.signingInput, jws.signature, key, alg);
    } catch (error) {
      throw refuse('expected a jwk usable with the proof alg', error);
    }
    if (!verified) throw refuse('proof refused: signature verification failed');
    const payload = decodeSegment(jws.payload, 'payload');

    this.checkClaims(payload, credentials, token.tokenHash);
    await this.checkNonce(payload['nonce']);
    // Remembered across replicas with skewed clocks (see replayTtlSeconds). The key is a
    // fixed-size hash so hostile jti lengths cost nothing extra.
    const now = Math.floor(this.options.clock.now().getTime() / 1000);
    const ttl = replayTtlSeconds(payload['iat'] as number, now, this.options.clockSkewSeconds);
    const replayKey = hash('sha256', `${thumbprint}:${payload['jti'] as string}`, 'base64url').slice(0, 22);
    if (!(await this.options.replay.firstSeen(`dpop:${replayKey}`, ttl))) {
      throw refuse('expected a fresh jti, got a replayed proof');
    }
    return thumbprint;
  }

  /** The header checked, its key bound to the token (before import), then imported. */
  private loadKey(encoded: Buffer, token: VerifiedOpTok): ProofKey {
    const { alg, jwk, thumbprint } = this.checkHeader(encoded);
    checkBinding(thumbprint, token);
    try {
      return { alg, thumbprint, key: importPublicJwk(jwk, alg) };
    } catch (error) {
      // Our own refusal says which bound the key broke; node's import errors stay in the cause.
      const reason = error instanceof UnacceptableKeyError ? `: ${error.message}` : '';
      throw refuse(`expected a jwk usable with the proof alg${reason}`, error);
    }
  }

  /** RFC 9449 §4.3 steps 4–7 on the protected header: typ, alg, no crit, a public jwk for alg. */
  private checkHeader(encoded: Buffer): { alg: string; jwk: JsonObject; thumbprint: string } {
    const header = decodeSegment(encoded, 'header');
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
    const thumbprint = jwkThumbprint(jwk as JsonObject);
    if (!thumbprint) throw refuse('expected a complete public jwk');
    return { alg, jwk: jwk as JsonObject, thumbprint };
  }

  /** `normalizeHtu` of a request URL, remembered: the service answers on a few URLs only. */
  private expectedHtuFor(requestUrl: string): string | null {
    let expected = this.expectedHtu.get(requestUrl);
    if (expected === undefined) {
      expected = normalizeHtu(requestUrl);
      if (this.expectedHtu.size >= 256) this.expectedHtu.clear();
      this.expectedHtu.set(requestUrl, expected);
    }
    return expected;
  }

  private checkClaims(payload: JsonObject, credentials: PresentedCredentials, tokenHash: string): void {
    const { jti, htm, htu, iat, ath, exp, nbf } = payload;
    if (typeof jti !== 'string' || jti.length < 8 || jti.length > 256)
      throw refuse('expected a jti of 8..256 chars');
    if (htm !== credentials.method) throw refuse(`expected htm ${credentials.method}, got ${shown(htm)}`);
    const expected = this.expectedHtuFor(credentials.htu);
    // The same text as the request URL normalises alike; anything else is normalised to compare.
    if (
      typeof htu !== 'string' ||
      expected === null ||
      (htu !== credentials.htu && normalizeHtu(htu) !== expected)
    ) {
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
    // ath = base64url(SHA-256(OpTok)) (RFC 9449 §4.2): the verified token's hash, computed once.
    if (typeof ath !== 'string' || !safeEqual(ath, tokenHash))
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
