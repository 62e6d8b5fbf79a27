import { request, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';

/** Largest response body read; a Signer answer is a few KiB. */
export const MAX_TLS_FETCH_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface TlsFetchOptions {
  /** PEM of the CA(s) that issued the Signer's server certificate (default: the system trust store). */
  ca?: string | Buffer;
  /** PEM client certificate for mTLS-bound tokens (RFC 8705); requires `key`. */
  cert?: string | Buffer;
  /** PEM private key of `cert`. */
  key?: string | Buffer;
}

/**
 * A `fetch` for {@link SignerClientOptions.fetch} over node:https: it can present a client
 * certificate (Node's global fetch cannot) and trust a private CA. Only what SignerClient uses is
 * supported: https URLs, string bodies, headers, and an abort signal. One TLS connection per request
 * (no keep-alive), so a CLI exits as soon as it is done.
 */
export function createTlsFetch(options: TlsFetchOptions): typeof fetch {
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new TypeError('createTlsFetch: expected both cert and key, or neither');
  }
  const tls: RequestOptions = { ca: options.ca, cert: options.cert, key: options.key, agent: false };
  const tlsFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (url.protocol !== 'https:')
      return Promise.reject(new TypeError(`expected an https URL, got ${url.protocol}`));
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string') {
      return Promise.reject(new TypeError('createTlsFetch: expected a string body'));
    }
    return send(
      url,
      { ...tls, method: init.method ?? 'GET', headers: headerObject(init.headers) },
      body,
      init.signal,
    );
  };
  return tlsFetch as typeof fetch;
}

function send(
  url: URL,
  options: RequestOptions,
  body: string | undefined | null,
  signal: AbortSignal | null | undefined,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const outgoing = request(url, options, (incoming) => {
      const chunks: Buffer[] = [];
      let size = 0;
      incoming.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_TLS_FETCH_RESPONSE_BYTES) {
          outgoing.destroy(new Error(`response larger than ${MAX_TLS_FETCH_RESPONSE_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      incoming.on('end', () => {
        const status = incoming.statusCode ?? 0;
        const content = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        resolve(
          new Response(content, {
            status,
            statusText: incoming.statusMessage,
            headers: responseHeaders(incoming.headers),
          }),
        );
      });
      incoming.on('error', reject);
    });
    const onAbort = () => outgoing.destroy(abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    outgoing.on('close', () => signal?.removeEventListener('abort', onAbort));
    outgoing.on('error', reject);
    outgoing.end(body ?? undefined);
  });
}

function headerObject(headers: RequestInit['headers']): Record<string, string> {
  return Object.fromEntries(new Headers(headers).entries());
}

function responseHeaders(headers: IncomingHttpHeaders): Headers {
  const result = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) value.forEach((item) => result.append(name, item));
    else if (value !== undefined) result.set(name, value);
  }
  return result;
}

function abortError(): Error {
  const error = new Error('the request was aborted');
  error.name = 'AbortError';
  return error;
}
