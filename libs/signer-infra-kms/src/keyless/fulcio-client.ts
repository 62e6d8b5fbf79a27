import { isRedirectStatus, readBoundedBody, UpstreamBodyTooLargeError } from '@signer/core';
import { parseServiceEndpoint } from '../kms/endpoint';

/** Path of Fulcio's certificate API (v2, JSON over HTTP). */
export const FULCIO_SIGNING_CERT_PATH = '/api/v2/signingCert';
/** Fulcio's public configuration (supported OIDC issuers): a cheap, unauthenticated liveness target. */
export const FULCIO_CONFIGURATION_PATH = '/api/v2/configuration';
/**
 * Largest `signingCert` answer read: a leaf and its issuers are a few KiB of PEM (sigstore.dev's
 * chain is ~3 KiB); the rest is room for a private CA with a long chain. A bigger body is refused
 * after this many bytes instead of being buffered whole.
 */
export const FULCIO_MAX_ANSWER_BYTES = 256 * 1024;
/** Largest `configuration` answer read: one line per supported OIDC issuer, ~2 KiB on sigstore.dev. */
export const FULCIO_MAX_CONFIGURATION_BYTES = 256 * 1024;

export interface SigningCertificateRequest {
  identityToken: string;
  publicKeyPem: string;
  /** Signature by the key being certified over the token's challenge (email or sub). */
  proofOfPossession: Buffer;
}

export interface SigningCertificateResponse {
  /** PEM certificates, leaf first. */
  chain: string[];
  /** Present when Fulcio returned a detached SCT instead of embedding it in the leaf. */
  detachedSct?: string;
}

/**
 * A non-2xx answer from Fulcio; `status` decides whether it is worth retrying (5xx only). A 3xx is
 * one of these: it is never followed (the request carries the identity token).
 */
export class FulcioHttpError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterSeconds?: number,
  ) {
    super(
      isRedirectStatus(status)
        ? `Fulcio answered a redirect (HTTP ${status}), not followed`
        : `Fulcio answered HTTP ${status}`,
    );
    this.name = 'FulcioHttpError';
  }
}

/** Fulcio gave a 2xx answer that is not a certificate chain. */
export class FulcioResponseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FulcioResponseError';
  }
}

export interface FulcioClientOptions {
  /** `signing.keyless.fulcioUrl`. */
  baseUrl: string;
}

interface FulcioAnswer {
  signedCertificateEmbeddedSct?: { chain?: { certificates?: unknown } };
  signedCertificateDetachedSct?: { chain?: { certificates?: unknown }; signedCertificateTimestamp?: unknown };
}

/**
 * `POST /api/v2/signingCert`, with the request body @sigstore/sign's CAClient sends. Not that client
 * itself: it returns only the leaf (the chain is needed), counts retries instead of honouring a
 * deadline, and its token-parse error quotes the token. One attempt per call; the caller retries.
 * Redirects are never followed (fetch would re-send the token to whatever host a 307 names) and
 * answers are read with a running byte limit.
 */
export class FulcioClient {
  readonly url: string;
  private readonly baseUrl: string;

  constructor(options: FulcioClientOptions) {
    this.baseUrl = parseServiceEndpoint('signing.keyless.fulcioUrl', options.baseUrl).url;
    this.url = `${this.baseUrl}${FULCIO_SIGNING_CERT_PATH}`;
  }

  /** Readiness: Fulcio answers `GET /api/v2/configuration` with 2xx and a JSON document. */
  async reachable(timeoutMs: number): Promise<void> {
    const response = await fetch(`${this.baseUrl}${FULCIO_CONFIGURATION_PATH}`, {
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(Math.max(1, Math.floor(timeoutMs))),
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new FulcioHttpError(response.status);
    }
    const body = await readAnswer(response, FULCIO_MAX_CONFIGURATION_BYTES, 'Fulcio configuration');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new FulcioResponseError('Fulcio configuration is not a JSON object');
    }
  }

  async createSigningCertificate(
    request: SigningCertificateRequest,
    timeoutMs: number,
  ): Promise<SigningCertificateResponse> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        credentials: { oidcIdentityToken: request.identityToken },
        publicKeyRequest: {
          publicKey: { algorithm: 'ECDSA', content: request.publicKeyPem },
          proofOfPossession: request.proofOfPossession.toString('base64'),
        },
      }),
      redirect: 'manual',
      signal: AbortSignal.timeout(Math.max(1, timeoutMs)),
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new FulcioHttpError(
        response.status,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      );
    }
    return parseAnswer(await readAnswer(response, FULCIO_MAX_ANSWER_BYTES, 'Fulcio signingCert answer'));
  }
}

/** The body as JSON (`undefined` when it is not JSON), read with a running byte limit. */
async function readAnswer(response: Response, maxBytes: number, what: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readBoundedBody(response, maxBytes, what);
  } catch (error) {
    if (error instanceof UpstreamBodyTooLargeError) {
      throw new FulcioResponseError(`${what} is larger than ${maxBytes} bytes`, { cause: error });
    }
    throw error;
  }
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function parseAnswer(body: unknown): SigningCertificateResponse {
  const answer = (body ?? {}) as FulcioAnswer;
  const signed = answer.signedCertificateEmbeddedSct ?? answer.signedCertificateDetachedSct;
  const certificates = signed?.chain?.certificates;
  if (
    !Array.isArray(certificates) ||
    certificates.length === 0 ||
    !certificates.every((c) => typeof c === 'string')
  ) {
    throw new FulcioResponseError('Fulcio answer has no certificate chain');
  }
  const sct = answer.signedCertificateDetachedSct?.signedCertificateTimestamp;
  return {
    chain: certificates as string[],
    ...(answer.signedCertificateEmbeddedSct === undefined && typeof sct === 'string'
      ? { detachedSct: sct }
      : {}),
  };
}
