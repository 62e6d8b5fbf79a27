import { RegistryError } from './registry-error';

/** Enough for a registry that hands blobs to a CDN; more is a loop or a trick. */
export const DEFAULT_MAX_REDIRECTS = 5;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface ExchangeRequest {
  url: URL;
  headers: Record<string, string>;
  /** Sent to the request's own origin only: a redirect to another origin drops it for good. */
  authorization?: string;
  signal: AbortSignal;
  maxRedirects?: number;
}

export interface Exchange {
  response: Response;
  /** Where the answer came from, after redirects. */
  url: URL;
}

function describeFailure(cause: unknown, signal: AbortSignal): string {
  if (signal.aborted) return 'no answer before the release-integrity deadline (timeoutMs)';
  return cause instanceof Error ? cause.message : 'a transport failure';
}

/**
 * One GET with redirects followed by hand, so that credentials never follow a redirect to another
 * origin (registries commonly send blobs to object storage with its own signed URL), and an
 * https → http downgrade is refused. Transport failures and the deadline are `unavailable`.
 */
export async function exchange(request: ExchangeRequest): Promise<Exchange> {
  const maxRedirects = request.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const origin = request.url.origin;
  let url = request.url;
  let authorization = request.authorization;
  for (let hop = 0; ; hop += 1) {
    if (url.origin !== origin) authorization = undefined;
    const headers = authorization ? { ...request.headers, authorization } : request.headers;
    let response: Response;
    try {
      response = await fetch(url, { method: 'GET', headers, redirect: 'manual', signal: request.signal });
    } catch (cause) {
      throw new RegistryError(
        'unavailable',
        `GET ${url.origin}${url.pathname}: ${describeFailure(cause, request.signal)}`,
        {
          cause,
        },
      );
    }
    if (!REDIRECT_STATUSES.has(response.status)) return { response, url };
    await discard(response);
    const location = response.headers.get('location');
    const next = location ? safeUrl(location, url) : undefined;
    if (!next || hop >= maxRedirects) {
      throw new RegistryError(
        'refused',
        `GET ${url.pathname}: expected at most ${maxRedirects} usable redirects`,
        {
          status: response.status,
        },
      );
    }
    if (url.protocol === 'https:' && next.protocol !== 'https:') {
      throw new RegistryError(
        'refused',
        `GET ${url.pathname}: expected redirects to stay on https, got ${next.protocol}`,
      );
    }
    url = next;
  }
}

function safeUrl(location: string, base: URL): URL | undefined {
  try {
    const url = new URL(location, base);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Releases the connection of a response whose body is not wanted. */
export async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // nothing to release
  }
}

/**
 * The body, at most `maxBytes` of it: a declared or actual length above the limit is `too_large`
 * and the rest is never read, so a hostile registry cannot make the Signer buffer gigabytes.
 */
export async function readBody(
  response: Response,
  maxBytes: number,
  what: string,
  signal: AbortSignal,
): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  const encoded = response.headers.get('content-encoding');
  if (!encoded && Number.isFinite(declared) && declared > maxBytes) {
    await discard(response);
    throw new RegistryError('too_large', `${what}: expected at most ${maxBytes} bytes, got ${declared}`);
  }
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        throw new RegistryError('too_large', `${what}: expected at most ${maxBytes} bytes, got more`);
      }
      chunks.push(Buffer.from(value));
    }
  } catch (cause) {
    if (cause instanceof RegistryError) throw cause;
    throw new RegistryError('unavailable', `${what}: ${describeFailure(cause, signal)}`, { cause });
  }
  return Buffer.concat(chunks, total);
}
