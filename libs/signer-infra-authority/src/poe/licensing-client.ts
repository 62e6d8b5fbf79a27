import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { readBoundedBody, UpstreamBodyTooLargeError, upstreamUrlProblem } from '@signer/core';

/**
 * Errors raised before any response arrived. Introspection is read-only, so repeating a request
 * that may have reached Licensing (a reset after sending) is safe.
 */
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

export interface LicensingResponse {
  status: number;
  retryAfter?: string;
  body: string;
}

/** Why a POST got no answer; only `connection` is worth one retry. */
export class LicensingTransportError extends Error {
  constructor(
    readonly kind: 'connection' | 'timeout' | 'too-large' | 'other',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LicensingTransportError';
  }
}

/** Host and port of a Licensing URL (default ports for http/https). */
export function licensingHost(url: URL): { hostname: string; port: number } {
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { hostname: url.hostname.replace(/^\[|\]$/g, ''), port };
}

export interface LicensingClientOptions {
  url: string;
  maxResponseBytes: number;
}

/**
 * A small JSON-over-HTTP(S) client with keep-alive: one POST, a hard deadline, a bounded body.
 * Kept on node:http so the error kinds (refused, reset, timeout) are explicit, not guessed from
 * a fetch wrapper's message. node:http never follows a redirect: a 3xx is handed back as an
 * answer like any other status, so the PoE is only ever sent to the configured origin.
 */
export class LicensingClient {
  private readonly url: URL;
  private readonly agent: HttpAgent;

  constructor(private readonly options: LicensingClientOptions) {
    // The PoE travels in this request: https, or plain http on a loopback host only.
    const problem = upstreamUrlProblem(options.url);
    if (problem) throw new RangeError(`licensing.introspectUrl: ${problem}`);
    this.url = new URL(options.url);
    this.agent =
      this.url.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true })
        : new HttpAgent({ keepAlive: true });
  }

  get host(): { hostname: string; port: number } {
    return licensingHost(this.url);
  }

  /** POSTs `body` as JSON; rejects with a {@link LicensingTransportError} if no answer came in time. */
  post(body: string, deadline: number): Promise<LicensingResponse> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.reject(new LicensingTransportError('timeout', 'licensing timed out'));
    const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<LicensingResponse>((resolve, reject) => {
      let settled = false;
      const finish = (error: LicensingTransportError | undefined, response?: LicensingResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          request.destroy();
          reject(error);
        } else resolve(response as LicensingResponse);
      };
      const request = send(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      });
      const timer = setTimeout(
        () => finish(new LicensingTransportError('timeout', `licensing did not answer within the deadline`)),
        remaining,
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        // No response yet: refused, reset (also a stale keep-alive socket) or unreachable.
        const kind = error.code && CONNECTION_ERRORS.has(error.code) ? 'connection' : 'other';
        finish(
          new LicensingTransportError(kind, `licensing unreachable (${error.code ?? 'error'})`, {
            cause: error,
          }),
        );
      });
      request.on('response', (response: IncomingMessage) => {
        this.read(response).then(
          (answer) => finish(undefined, answer),
          (error: unknown) => finish(readError(error)),
        );
      });
      request.end(body);
    });
  }

  /** The answer, its body read with a running byte limit (a declared oversize is refused unread). */
  private async read(response: IncomingMessage): Promise<LicensingResponse> {
    const headers = { get: (name: string) => single(response.headers[name.toLowerCase()]) ?? null };
    const body = await readBoundedBody(
      { headers, body: response },
      this.options.maxResponseBytes,
      'licensing answer',
    );
    return {
      status: response.statusCode ?? 0,
      retryAfter: single(response.headers['retry-after']),
      body: body.toString('utf8'),
    };
  }

  close(): void {
    this.agent.destroy();
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function readError(error: unknown): LicensingTransportError {
  if (error instanceof UpstreamBodyTooLargeError)
    return new LicensingTransportError('too-large', 'licensing answer larger than allowed', { cause: error });
  return new LicensingTransportError('other', 'licensing answer interrupted', { cause: error });
}
