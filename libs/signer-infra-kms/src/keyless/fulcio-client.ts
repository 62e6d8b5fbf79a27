import { parseServiceEndpoint } from '../kms/endpoint';

/** Path of Fulcio's certificate API (v2, JSON over HTTP). */
export const FULCIO_SIGNING_CERT_PATH = '/api/v2/signingCert';
/** Fulcio's public configuration (supported OIDC issuers): a cheap, unauthenticated liveness target. */
export const FULCIO_CONFIGURATION_PATH = '/api/v2/configuration';

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

/** A non-2xx answer from Fulcio; `status` decides whether it is worth retrying (5xx only). */
export class FulcioHttpError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterSeconds?: number,
  ) {
    super(`Fulcio answered HTTP ${status}`);
    this.name = 'FulcioHttpError';
  }
}

/** Fulcio gave a 2xx answer that is not a certificate chain. */
export class FulcioResponseError extends Error {
  constructor(message: string) {
    super(message);
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
 */
export class FulcioClient {
  readonly url: string;
  private readonly baseUrl: string;

  constructor(options: FulcioClientOptions) {
    this.baseUrl = parseServiceEndpoint('signing.keyless.fulcioUrl', options.baseUrl).url;
    this.url = `${this.baseUrl}${FULCIO_SIGNING_CERT_PATH}`;
  }

  /** Readiness: Fulcio answers `GET /api/v2/configuration` with 2xx. */
  async reachable(timeoutMs: number): Promise<void> {
    const response = await fetch(`${this.baseUrl}${FULCIO_CONFIGURATION_PATH}`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(Math.max(1, Math.floor(timeoutMs))),
    });
    await response.body?.cancel();
    if (!response.ok) throw new FulcioHttpError(response.status);
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
      signal: AbortSignal.timeout(Math.max(1, timeoutMs)),
    });
    if (!response.ok) {
      await response.body?.cancel();
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new FulcioHttpError(
        response.status,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      );
    }
    return parseAnswer(await response.json().catch(() => undefined));
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
