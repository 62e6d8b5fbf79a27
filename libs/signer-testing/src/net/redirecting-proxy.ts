import { request, type IncomingHttpHeaders, type Server } from 'node:http';
import { closeServer, startLoopbackServer } from '../kms/loopback-http';

/** One request the proxy received, with the headers it carried (credentials included). */
export interface ProxiedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** `forwarded` to the target, or the redirect status it was answered with. */
  answer: 'forwarded' | number;
}

/**
 * A loopback HTTP server in front of a real fake (Fulcio, a KMS): it forwards every request
 * unchanged (the Host header too, so a SigV4 signature still verifies) until told to redirect; then
 * it answers each request with that status and a `Location` naming the same path on the target —
 * another port, so another origin. A client that follows the redirect reaches the target with what
 * it carried; one that does not leaves the target untouched, which the target's own call log shows.
 */
export class RedirectingProxy {
  readonly requests: ProxiedRequest[] = [];
  private redirectStatus: number | undefined;

  private constructor(
    private readonly server: Server,
    /** Base URL of the proxy (`http://127.0.0.1:<port>`). */
    readonly url: string,
    private readonly target: URL,
  ) {}

  static async start(target: string): Promise<RedirectingProxy> {
    const self: { proxy?: RedirectingProxy } = {};
    const { server, port } = await startLoopbackServer((incoming, body, response) => {
      const proxy = self.proxy as RedirectingProxy;
      const seen: ProxiedRequest = {
        method: incoming.method ?? '',
        path: incoming.url ?? '/',
        headers: incoming.headers,
        body,
        answer: proxy.redirectStatus ?? 'forwarded',
      };
      proxy.requests.push(seen);
      if (proxy.redirectStatus !== undefined) {
        response.statusCode = proxy.redirectStatus;
        response.setHeader('location', new URL(seen.path, proxy.target).href);
        response.end();
        return;
      }
      const upstream = request(
        new URL(seen.path, proxy.target),
        { method: seen.method, headers: incoming.headers },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on('error', () => response.destroy());
      upstream.end(body);
    });
    self.proxy = new RedirectingProxy(server, `http://127.0.0.1:${port}`, new URL(target));
    return self.proxy;
  }

  /** From now on every request is answered `status` (e.g. 307) pointing at the target; `undefined` forwards again. */
  redirect(status: number | undefined): void {
    this.redirectStatus = status;
  }

  /** Requests answered with a redirect (the ones that must not reach the target). */
  redirected(): ProxiedRequest[] {
    return this.requests.filter((r) => r.answer !== 'forwarded');
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}
