import { createHash, timingSafeEqual } from 'node:crypto';
import {
  SignerError,
  type Clock,
  type NonceStore,
  type PresentedCredentials,
  type ReplayCache,
  type VerifiedOpTok,
} from '@signer/core';
import {
  calculateJwkThumbprint,
  decodeProtectedHeader,
  importJWK,
  jwtVerify,
  type JWK,
  type JWTPayload,
} from 'jose';
import { describeJoseError } from '../optok/jose-errors';
import { normalizeHtu } from './htu';
import { PublicKeyCache } from './public-key-cache';

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
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(proof))
      throw refuse('expected one compact JWS');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(proof);
    } catch (error) {
      throw refuse('expected a decodable proof header', error);
    }
    if (header.typ !== 'dpop+jwt') throw refuse(`expected typ dpop+jwt, got ${String(header.typ)}`);
    if (typeof header.alg !== 'string' || !this.options.algorithms.includes(header.alg)) {
      throw refuse(`expected an allowed asymmetric alg, got ${String(header.alg)}`);
    }
    const jwk = header.jwk as JWK | undefined;
    if (!jwk || typeof jwk !== 'object') throw refuse('expected a public jwk in the header, got none');
    if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk))
      throw refuse('expected a public jwk, got private key material');

    let thumbprint: string;
    let payload: JWTPayload;
    try {
      thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
      const key = await this.keys.get(thumbprint, header.alg, () => importJWK(jwk, header.alg));
      ({ payload } = await jwtVerify(proof, key, {
        typ: 'dpop+jwt',
        algorithms: [header.alg],
        currentDate: this.options.clock.now(),
        clockTolerance: this.options.clockSkewSeconds,
      }));
    } catch (error) {
      throw refuse(`proof refused: ${describeJoseError(error)}`, error);
    }

    this.checkClaims(payload, credentials);
    if (!token.confirmation.jkt || !safeEqual(thumbprint, token.confirmation.jkt)) {
      throw refuse('expected the proof key thumbprint to equal cnf.jkt, got another key');
    }
    await this.checkNonce(payload.nonce);
    const ttl = 2 * this.options.clockSkewSeconds + 5;
    if (!(await this.options.replay.firstSeen(`dpop:${thumbprint}:${payload.jti as string}`, ttl))) {
      throw refuse('expected a fresh jti, got a replayed proof');
    }
    return thumbprint;
  }

  private checkClaims(payload: JWTPayload, credentials: PresentedCredentials): void {
    const { jti, htm, htu, iat, ath } = payload as Record<string, unknown>;
    if (typeof jti !== 'string' || jti.length < 8 || jti.length > 256)
      throw refuse('expected a jti of 8..256 chars');
    if (htm !== credentials.method) throw refuse(`expected htm ${credentials.method}, got ${String(htm)}`);
    const expected = normalizeHtu(credentials.htu);
    if (typeof htu !== 'string' || expected === null || normalizeHtu(htu) !== expected) {
      throw refuse(`expected htu ${expected ?? '(unusable request URL)'}, got another URL`);
    }
    if (typeof iat !== 'number') throw refuse('expected a numeric iat, got none');
    const now = Math.floor(this.options.clock.now().getTime() / 1000);
    if (Math.abs(now - iat) > this.options.clockSkewSeconds) {
      throw refuse(`expected iat within ${this.options.clockSkewSeconds}s of ${now}, got ${iat}`);
    }
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
