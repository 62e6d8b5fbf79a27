// The part of autocannon 8's API the load generator uses (the package ships no types).
declare module 'autocannon' {
  interface Request {
    method: string;
    path: string;
    headers: Record<string, string>;
    body: string;
    /** Called before each request is sent; may edit it (a fresh DPoP header). */
    setupRequest?(request: Request): Request;
    onResponse?(status: number, body: string): void;
  }

  interface Options {
    url: string;
    connections: number;
    /** Seconds. */
    duration: number;
    /** Seconds per request. */
    timeout: number;
    requests: Request[];
  }

  interface Histogram {
    p50: number;
    p90: number;
    p99: number;
    max: number;
    mean: number;
  }

  interface Result {
    duration: number;
    requests: { total: number };
    latency: Histogram;
    '2xx': number;
    non2xx: number;
    errors: number;
    timeouts: number;
    mismatches: number;
  }

  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
