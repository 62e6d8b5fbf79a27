/** Largest JWKS or discovery document the Signer reads; a real one is a few KiB. */
export const MAX_DOCUMENT_BYTES = 256 * 1024;

export interface FetchJsonOptions {
  fetch: typeof fetch;
  timeoutMs: number;
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
 * silently); the body is bounded.
 */
export async function fetchJsonObject(
  url: string,
  options: FetchJsonOptions,
): Promise<Record<string, unknown>> {
  const where = describeUrl(url);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    const response = await options.fetch(url, {
      method: 'GET',
      headers: { accept: 'application/json, application/jwk-set+json' },
      redirect: 'error',
      signal: controller.signal,
    });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new DocumentFetchError(`GET ${where}: expected 200, got ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > MAX_DOCUMENT_BYTES) {
      await response.body?.cancel().catch(() => undefined);
      throw new DocumentFetchError(`GET ${where}: document larger than ${MAX_DOCUMENT_BYTES} bytes`);
    }
    const text = await response.text();
    if (Buffer.byteLength(text) > MAX_DOCUMENT_BYTES)
      throw new DocumentFetchError(`GET ${where}: document larger than ${MAX_DOCUMENT_BYTES} bytes`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
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

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * An Authority URL the Signer may fetch keys from: https, or plain http on loopback only (a dev
 * Authority or a test). Returns a problem message, or undefined when acceptable.
 */
export function authorityUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'expected an absolute URL';
  }
  if (url.username || url.password) return 'expected no credentials in the URL';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return 'expected https:// (plain http only on a loopback host)';
}
