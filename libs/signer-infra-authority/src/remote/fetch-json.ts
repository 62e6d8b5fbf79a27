import { isRedirectStatus, readBoundedBody, UpstreamBodyTooLargeError } from '@signer/core';

/** Largest JWKS or discovery document the Signer reads; a real one is a few KiB. */
export const MAX_DOCUMENT_BYTES = 256 * 1024;

export interface FetchJsonOptions {
  fetch: typeof fetch;
  timeoutMs: number;
  /** Byte limit of the body, read with a running count; default {@link MAX_DOCUMENT_BYTES}. */
  maxBytes?: number;
}

/** Why a document could not be obtained; the message names the URL's origin and path, never a secret. */
export class DocumentFetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DocumentFetchError';
  }
}

/**
 * GETs a JSON object from the Authority. The timeout covers connect and body read; redirects are
 * refused (a JWKS location that moves is a configuration change, not something to follow
 * silently); the body is read with a running byte limit, so a hostile or broken upstream streaming
 * without end costs at most `maxBytes` of memory before the connection is dropped.
 */
export async function fetchJsonObject(
  url: string,
  options: FetchJsonOptions,
): Promise<Record<string, unknown>> {
  const where = describeUrl(url);
  const maxBytes = options.maxBytes ?? MAX_DOCUMENT_BYTES;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    const response = await options.fetch(url, {
      method: 'GET',
      headers: { accept: 'application/json, application/jwk-set+json' },
      // 'manual' would hand back an opaque 3xx; 'error' rejects, and a 3xx that still arrives
      // (another fetch implementation) is refused below.
      redirect: 'error',
      signal: controller.signal,
    });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      const what = isRedirectStatus(response.status) ? 'a redirect (not followed)' : 'another status';
      throw new DocumentFetchError(`GET ${where}: expected 200, got ${response.status}: ${what}`);
    }
    let bytes: Buffer;
    try {
      bytes = await readBoundedBody(response, maxBytes, `GET ${where}`);
    } catch (cause) {
      if (cause instanceof UpstreamBodyTooLargeError)
        throw new DocumentFetchError(`GET ${where}: document larger than ${maxBytes} bytes`, { cause });
      throw cause;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch (cause) {
      throw new DocumentFetchError(`GET ${where}: expected JSON`, { cause });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new DocumentFetchError(`GET ${where}: expected a JSON object`);
    return parsed as Record<string, unknown>;
  } catch (error) {
    if (error instanceof DocumentFetchError) throw error;
    if (controller.signal.aborted)
      throw new DocumentFetchError(`GET ${where}: no answer within ${options.timeoutMs} ms`, {
        cause: error,
      });
    throw new DocumentFetchError(`GET ${where}: request failed`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
