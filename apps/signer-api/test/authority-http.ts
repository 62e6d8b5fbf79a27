import { request as httpsRequestRaw } from 'node:https';

export interface HttpAnswer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
  json(): unknown;
}

/**
 * One request on a fresh TLS connection (no agent, so no connection or session is shared between
 * requests presenting different certificates), trusting `ca` for the server.
 */
export function httpsRequest(
  url: string,
  options: {
    method?: string;
    body?: unknown;
    headers?: Record<string, string>;
    ca: string;
    cert?: string;
    key?: string;
  },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const request = httpsRequestRaw(
      url,
      {
        method: options.method ?? 'POST',
        agent: false,
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        headers: {
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({
            statusCode: response.statusCode ?? 0,
            headers: response.headers,
            body,
            json: () => JSON.parse(body) as unknown,
          });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/** One plain-HTTP request with fetch, answered in the same shape as {@link httpsRequest}. */
export async function httpRequest(
  url: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string> },
): Promise<HttpAnswer> {
  const response = await fetch(url, {
    method: options.method ?? 'POST',
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const body = await response.text();
  return {
    statusCode: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body,
    json: () => JSON.parse(body) as unknown,
  };
}
