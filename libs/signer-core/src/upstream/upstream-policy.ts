/**
 * Rules every upstream call that carries a credential follows (Authority JWKS/discovery, Licensing,
 * Fulcio, KMS endpoints, registries): https, or plain http on a loopback host only; no redirect
 * followed to another origin; every body read with a running byte limit. Pure helpers over URLs and
 * byte streams: the infra adapters own the network calls.
 */

/** Hosts where plain http is accepted (a dev service, an emulator, a test fake). */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Why `value` is not a URL the Signer may send a credential to, or `undefined` when it is. */
export function upstreamUrlProblem(value: string): string | undefined {
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

/** An upstream body that exceeded its byte limit; `declared` when the Content-Length said so up front. */
export class UpstreamBodyTooLargeError extends Error {
  constructor(
    readonly what: string,
    readonly maxBytes: number,
  ) {
    super(`${what}: expected at most ${maxBytes} bytes, got more`);
    this.name = 'UpstreamBodyTooLargeError';
  }
}

/** The minimal view of a fetch `Response` that {@link readBoundedBody} needs. */
export interface BoundedBodySource {
  headers: { get(name: string): string | null };
  body: AsyncIterable<Uint8Array> | null;
}

/**
 * Reads a response body with a running byte limit: a declared `Content-Length` above the limit is
 * refused before reading, and a chunked or lying body is cut off as soon as it passes the limit
 * (so a hostile upstream cannot make the process buffer more than `maxBytes`).
 */
export async function readBoundedBody(
  source: BoundedBodySource,
  maxBytes: number,
  what: string,
): Promise<Buffer> {
  const declared = Number(source.headers.get('content-length') ?? 'NaN');
  const body = source.body;
  if (Number.isFinite(declared) && declared > maxBytes) {
    await cancel(body);
    throw new UpstreamBodyTooLargeError(what, maxBytes);
  }
  if (!body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      // Leaving the loop early cancels the stream (the async iterator's return()).
      throw new UpstreamBodyTooLargeError(what, maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

async function cancel(body: AsyncIterable<Uint8Array> | null): Promise<void> {
  const stream = body as { cancel?: () => Promise<void> } | null;
  await stream?.cancel?.().catch(() => undefined);
}

/** True for a redirect status: a credentialed call treats it as a failure instead of following it. */
export function isRedirectStatus(status: number): boolean {
  return status >= 300 && status < 400 && status !== 304;
}
