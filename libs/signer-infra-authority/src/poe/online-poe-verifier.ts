import { connect } from 'node:net';
import {
  isRedirectStatus,
  SignerError,
  type EntitlementClaims,
  type EntitlementVerifier,
  type PoePresentation,
} from '@signer/core';
import { certificateThumbprint } from '../mtls/certificate-thumbprint';
import {
  LicensingClient,
  licensingHost,
  LicensingTransportError,
  type LicensingResponse,
} from './licensing-client';
import { claimsFromPayload } from './offline-poe-verifier';

export const DEFAULT_LICENSING_TIMEOUT_MS = 2000;
/** Licensing outages are rarely shorter than a few seconds; callers should not hammer it. */
export const DEFAULT_LICENSING_RETRY_AFTER_SECONDS = 5;
/** Retry-After taken from Licensing is clamped to this range. */
export const MAX_LICENSING_RETRY_AFTER_SECONDS = 300;
/** An introspection answer is a few hundred bytes; anything huge is not an answer. */
export const DEFAULT_LICENSING_MAX_RESPONSE_BYTES = 64 * 1024;

export interface OnlinePoeVerifierOptions {
  /** `licensing.introspectUrl`. */
  introspectUrl: string;
  /** `licensing.timeoutMs`: the whole decision, including the one retry, fits in it. */
  timeoutMs?: number;
  /** `Retry-After` when Licensing is unreachable and does not say. */
  retryAfterSeconds?: number;
  maxResponseBytes?: number;
}

const deny = (message: string) => new SignerError('entitlement_denied', message);

/**
 * Online PoE (contract §4): `POST licensing.introspectUrl` with `{ poe, format }`. For `mtls` the
 * PoE is the client certificate, presented to Licensing as its RFC 8705 fingerprint
 * (base64url SHA-256 of the DER). One retry on connection errors only; a timeout, a non-200
 * answer or an answer that is not a well-formed decision is an upstream fault
 * (`503 upstream_unavailable`, never cached), because Licensing said nothing about the PoE.
 * A well-formed `active: false` is a decision (`entitlement_denied`, negatively cached).
 */
export class OnlinePoeVerifier implements EntitlementVerifier {
  private readonly client: LicensingClient;
  private readonly timeoutMs: number;
  private readonly retryAfterSeconds: number;

  constructor(options: OnlinePoeVerifierOptions) {
    this.client = new LicensingClient({
      url: options.introspectUrl,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_LICENSING_MAX_RESPONSE_BYTES,
    });
    this.timeoutMs = options.timeoutMs ?? DEFAULT_LICENSING_TIMEOUT_MS;
    this.retryAfterSeconds = options.retryAfterSeconds ?? DEFAULT_LICENSING_RETRY_AFTER_SECONDS;
  }

  async verify(poe: PoePresentation): Promise<EntitlementClaims> {
    const body = JSON.stringify({ poe: this.presented(poe), format: poe.format });
    const response = await this.introspect(body);
    if (isRedirectStatus(response.status)) {
      // Never followed: the PoE would be re-sent to whatever origin the Location names.
      throw this.unavailable(`licensing answered a redirect (HTTP ${response.status}), not followed`);
    }
    if (response.status !== 200) {
      throw this.unavailable(`licensing answered HTTP ${response.status}`, undefined, response.retryAfter);
    }
    return this.decision(response.body);
  }

  /** `/readyz`: Licensing accepts TCP connections (no PoE is sent). */
  reachable(): Promise<void> {
    return licensingReachable(this.client.host, this.timeoutMs);
  }

  close(): void {
    this.client.close();
  }

  private presented(poe: PoePresentation): string {
    if (poe.format === 'mtls') {
      if (!poe.clientCertificate?.length) throw deny('expected a client certificate as the PoE, got none');
      return certificateThumbprint(poe.clientCertificate);
    }
    if (!poe.value) throw deny('expected a PoE value, got none');
    return poe.value;
  }

  private async introspect(body: string): Promise<LicensingResponse> {
    const deadline = Date.now() + this.timeoutMs;
    try {
      return await this.client.post(body, deadline);
    } catch (first) {
      if (!(first instanceof LicensingTransportError) || first.kind !== 'connection')
        throw this.transport(first);
      try {
        return await this.client.post(body, deadline);
      } catch (second) {
        throw this.transport(second);
      }
    }
  }

  /** Only a JSON object with a boolean `active` is a decision; everything else is an upstream fault. */
  private decision(text: string): EntitlementClaims {
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch (error) {
      throw this.unavailable('licensing answer is not JSON', error);
    }
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer))
      throw this.unavailable('licensing answer is not a JSON object');
    const payload = answer as Record<string, unknown>;
    if (typeof payload['active'] !== 'boolean')
      throw this.unavailable('licensing answer has no boolean active');
    if (payload['active'] === false) {
      // RFC 7662 style: an inactive answer may carry nothing else. Keep the claims when present
      // (the audit then names the licence); either way the PoE is refused and negatively cached.
      try {
        return claimsFromPayload(payload);
      } catch {
        throw deny('licence inactive');
      }
    }
    try {
      return claimsFromPayload(payload);
    } catch (error) {
      throw this.unavailable(`licensing answer malformed: ${(error as Error).message}`, error);
    }
  }

  private transport(error: unknown): SignerError {
    const message = error instanceof LicensingTransportError ? error.message : 'licensing request failed';
    return this.unavailable(message, error);
  }

  private unavailable(message: string, cause?: unknown, retryAfter?: string): SignerError {
    return new SignerError('upstream_unavailable', message, {
      cause,
      upstream: 'licensing',
      retryAfterSeconds: parseRetryAfter(retryAfter) ?? this.retryAfterSeconds,
    });
  }
}

/** Resolves when Licensing's host accepts a TCP connection within `timeoutMs`; sends nothing. */
export function licensingReachable(
  target: string | { hostname: string; port: number },
  timeoutMs = DEFAULT_LICENSING_TIMEOUT_MS,
): Promise<void> {
  const { hostname, port } = typeof target === 'string' ? licensingHost(new URL(target)) : target;
  return new Promise<void>((resolve, reject) => {
    const socket = connect({ host: hostname, port });
    const done = (error?: Error) => {
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    socket.setTimeout(timeoutMs, () => done(new Error('licensing connect timed out')));
    socket.once('connect', () => done());
    socket.once('error', done);
  });
}

/** `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3), clamped to [1, 300]. */
export function parseRetryAfter(value: string | undefined, nowMs = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  let seconds: number;
  if (/^\d+$/.test(trimmed)) seconds = Number(trimmed);
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    seconds = Math.ceil((at - nowMs) / 1000);
  }
  return Math.min(MAX_LICENSING_RETRY_AFTER_SECONDS, Math.max(1, seconds));
}
