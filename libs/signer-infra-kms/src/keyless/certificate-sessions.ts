import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { isRedirectStatus, SignerError, systemClock, type Clock } from '@signer/core';
import {
  DeadlineExceededError,
  DEFAULT_PROBE_TIMEOUT_MS,
  retryWithinDeadline,
} from '../kms/retry-within-deadline';
import { toUpstreamError } from '../kms/upstream-error';
import { checkIssuedChain, type IssuedCertificate } from './fulcio-certificate';
import { FulcioHttpError, FulcioResponseError, type FulcioClient } from './fulcio-client';
import type { IdentityTokenFile } from './identity-token-file';

/** Stop using a certificate for new signatures this long before it expires (`rotationMarginSeconds`). */
export const DEFAULT_ROTATION_MARGIN_SECONDS = 120;
/** Time one certificate request may take, Fulcio 5xx retries included. */
export const DEFAULT_FULCIO_DEADLINE_MS = 10_000;
/** A certificate whose notBefore is further ahead than this is refused (clock trouble). */
export const MAX_CLOCK_SKEW_MS = 30_000;
/** Renew in the background this long before the margin starts, capped at a tenth of the lifetime. */
export const MAX_RENEW_LEAD_MS = 30_000;

/** An ephemeral key and the certificate Fulcio issued for it. */
export interface CertificateSession {
  privateKey: KeyObject;
  certificate: IssuedCertificate;
  /** No new signature at or after this instant (notAfter − margin). */
  useUntilMs: number;
  /** From this instant a replacement is requested in the background. */
  renewAtMs: number;
}

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface CertificateSessionsOptions {
  fulcio: FulcioClient;
  token: IdentityTokenFile;
  clock?: Clock;
  rotationMarginSeconds?: number;
  deadlineMs?: number;
  requireEmbeddedSct?: boolean;
  /** Ephemeral key generator (P-256); tests substitute one to exercise Fulcio's PoP check. */
  generateKey?: () => KeyPair;
}

const p256 = (): KeyPair => generateKeyPairSync('ec', { namedCurve: 'P-256' });

// Retried: Fulcio 5xx, and transport failures (fetch's "fetch failed" TypeError, request timeouts).
// Never retried: a 4xx, an answer that is not a valid chain, or our own refusal.
const isFulcioRetryable = (error: unknown) => {
  if (error instanceof FulcioHttpError) return error.status >= 500;
  const { name, message } = (error ?? {}) as { name?: string; message?: string };
  return (
    (name === 'TypeError' && message === 'fetch failed') || name === 'TimeoutError' || name === 'AbortError'
  );
};

// Fulcio and fetch messages carry a status or a network reason, never the request body (the token).
const fulcioErrorName = (error: unknown) => {
  const { name, message } = (error ?? {}) as { name?: string; message?: string };
  return name ? `${name}: ${message ?? ''}` : 'unknown error';
};

/** After a failed background renewal, wait this long before the next one (the old certificate serves). */
export const RENEWAL_RETRY_MS = 5_000;

/**
 * Holds the current key + certificate and replaces it before it expires, so Fulcio sees one call per
 * rotation however many signatures are made. Concurrent callers share one in-flight request; a
 * background renewal starts shortly before the margin, and while it runs (or if it fails) the
 * current certificate keeps serving until `useUntilMs` — never after.
 */
export class CertificateSessions {
  private session: CertificateSession | undefined;
  private inflight: Promise<CertificateSession> | undefined;
  private renewalPausedUntilMs = 0;
  private readonly clock: Clock;
  private readonly marginMs: number;

  constructor(private readonly options: CertificateSessionsOptions) {
    this.clock = options.clock ?? systemClock;
    this.marginMs = (options.rotationMarginSeconds ?? DEFAULT_ROTATION_MARGIN_SECONDS) * 1000;
  }

  /** The session to sign with now: the current one while usable, else the (shared) next one. */
  async current(): Promise<CertificateSession> {
    const now = this.clock.now().getTime();
    const session = this.session;
    if (session && now < session.useUntilMs) {
      if (now >= session.renewAtMs && now >= this.renewalPausedUntilMs && !this.inflight) {
        // Failure is not fatal here: the current certificate still serves until useUntilMs.
        this.rotate().catch(() => {
          this.renewalPausedUntilMs = this.clock.now().getTime() + RENEWAL_RETRY_MS;
        });
      }
      return session;
    }
    return this.inflight ?? this.rotate();
  }

  /**
   * Readiness (`/readyz`): the identity token is usable and Fulcio answers — without requesting a
   * certificate (probes must not spend Fulcio's rate limits).
   */
  async probe(timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): Promise<void> {
    await this.options.token.read();
    await this.options.fulcio.reachable(timeoutMs);
  }

  /** The certificate in use, if any (for `GET /keys`); never triggers a Fulcio call. */
  peek(): CertificateSession | undefined {
    return this.session;
  }

  private rotate(): Promise<CertificateSession> {
    const pending = this.issue()
      .then((session) => {
        this.session = session;
        return session;
      })
      .finally(() => {
        if (this.inflight === pending) this.inflight = undefined;
      });
    this.inflight = pending;
    return pending;
  }

  private async issue(): Promise<CertificateSession> {
    const { fulcio, token } = this.options;
    const identity = await token.read();
    const { privateKey, publicKey } = (this.options.generateKey ?? p256)();
    const proofOfPossession = sign('sha256', Buffer.from(identity.challenge, 'utf8'), privateKey);
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    let certificate: IssuedCertificate;
    try {
      const answer = await retryWithinDeadline(
        ({ remainingMs }) =>
          fulcio.createSigningCertificate(
            { identityToken: identity.token, publicKeyPem, proofOfPossession },
            remainingMs(),
          ),
        {
          deadlineMs: this.options.deadlineMs ?? DEFAULT_FULCIO_DEADLINE_MS,
          isRetryable: isFulcioRetryable,
          baseDelayMs: 100,
          maxDelayMs: 2000,
        },
      );
      certificate = checkIssuedChain(answer.chain, {
        publicKey,
        requireEmbeddedSct: this.options.requireEmbeddedSct ?? true,
      });
    } catch (error) {
      throw fulcioFailure(error);
    }
    return this.sessionFor(privateKey, certificate);
  }

  private sessionFor(privateKey: KeyObject, certificate: IssuedCertificate): CertificateSession {
    const now = this.clock.now().getTime();
    const notBefore = certificate.notBefore.getTime();
    const notAfter = certificate.notAfter.getTime();
    if (notBefore > now + MAX_CLOCK_SKEW_MS) {
      throw new SignerError('upstream_unavailable', 'Fulcio certificate is not valid yet (clock skew?)', {
        upstream: 'fulcio',
      });
    }
    const useUntilMs = notAfter - this.marginMs;
    if (useUntilMs <= Math.max(now, notBefore)) {
      throw new SignerError(
        'upstream_unavailable',
        `Fulcio certificate lifetime is shorter than the rotation margin (${this.marginMs / 1000} s)`,
        { upstream: 'fulcio' },
      );
    }
    const lead = Math.min(MAX_RENEW_LEAD_MS, (notAfter - notBefore) / 10);
    return { privateKey, certificate, useUntilMs, renewAtMs: Math.max(notBefore, useUntilMs - lead) };
  }
}

function fulcioFailure(error: unknown): SignerError {
  // A 4xx (token or proof of possession refused) or a 3xx (never followed: the request carries the
  // identity token) is final; its Retry-After, if any, is passed on.
  if (error instanceof FulcioHttpError && error.status < 500) {
    return new SignerError(
      'upstream_unavailable',
      isRedirectStatus(error.status)
        ? `Fulcio answered the certificate request with a redirect (HTTP ${error.status}), not followed`
        : `Fulcio refused the certificate request (HTTP ${error.status})`,
      {
        cause: error,
        upstream: 'fulcio',
        ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
      },
    );
  }
  if (error instanceof FulcioResponseError) {
    return new SignerError('upstream_unavailable', `Fulcio answer refused: ${error.message}`, {
      cause: error,
      upstream: 'fulcio',
    });
  }
  if (error instanceof DeadlineExceededError || !(error instanceof SignerError)) {
    return toUpstreamError('fulcio', 'Fulcio certificate request', error, fulcioErrorName);
  }
  return error;
}
