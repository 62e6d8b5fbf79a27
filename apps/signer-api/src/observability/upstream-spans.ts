import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { context, SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import type { SignerConfig } from '../config/config-schema';

/**
 * Which upstream a host (`host:port`) belongs to; `undefined` for an unknown host (traced as
 * `http`), `null` for a host that must not be traced (the OTLP collector: tracing the export
 * would feed itself).
 */
export type UpstreamHosts = (host: string) => string | null | undefined;

const UNTRACED = '';

/** Cloud KMS endpoints used when a key names no `endpoint`. */
const CLOUD_KMS_HOST = /^(kms(-fips)?\.[a-z0-9-]+\.amazonaws\.com|cloudkms\.googleapis\.com)(:\d+)?$/;

function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/** Maps the hosts named in the config to the contract's upstream names. */
export function upstreamHosts(config: SignerConfig): UpstreamHosts {
  const known = new Map<string, string>();
  const add = (url: string | undefined, upstream: string) => {
    const host = hostOf(url);
    if (host) known.set(host, upstream);
  };
  add(config.authority.jwksUri, 'authority');
  add(config.authority.jwksUri ? undefined : config.authority.issuer, 'authority');
  add(config.licensing.introspectUrl, 'licensing');
  add(config.releaseIntegrity.registryUrl, 'registry');
  add(config.signing.keyless?.fulcioUrl, 'fulcio');
  for (const key of Object.values(config.signing.keys)) add(key.endpoint, 'kms');
  add(config.telemetry?.otlpEndpoint, UNTRACED);
  return (host) => {
    const upstream = known.get(host);
    if (upstream === UNTRACED) return null;
    return upstream ?? (CLOUD_KMS_HOST.test(host) ? 'kms' : undefined);
  };
}

interface WireRequest {
  method: string;
  host: string;
  path: string;
}

function startSpan(tracer: Tracer, hosts: UpstreamHosts, wire: WireRequest): Span | undefined {
  const known = hosts(wire.host);
  if (known === null) return undefined;
  const upstream = known ?? 'http';
  const [hostname, port] = wire.host.split(':');
  // The path only: query strings (token endpoints) stay out of traces.
  return tracer.startSpan(
    `${upstream} ${wire.method}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'signer.upstream': upstream,
        'http.request.method': wire.method,
        'server.address': hostname,
        ...(port ? { 'server.port': Number(port) } : {}),
        'url.path': wire.path.split('?')[0],
      },
    },
    context.active(),
  );
}

function finish(span: Span | undefined, status?: number, error?: unknown): void {
  if (!span) return;
  if (status !== undefined) span.setAttribute('http.response.status_code', status);
  if (error !== undefined || (status !== undefined && status >= 500)) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error ? (error as Error).message : `HTTP ${status}`,
    });
  }
  span.end();
}

type Subscription = [string, (message: unknown) => void];

function httpClientSubscriptions(tracer: Tracer, hosts: UpstreamHosts): Subscription[] {
  const spans = new WeakMap<ClientRequest, Span>();
  return [
    [
      'http.client.request.start',
      (message) => {
        const { request } = message as { request: ClientRequest };
        const host = String(request.getHeader('host') ?? request.host);
        const span = startSpan(tracer, hosts, { method: request.method, host, path: request.path });
        if (span) spans.set(request, span);
      },
    ],
    [
      'http.client.response.finish',
      (message) => {
        const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
        finish(spans.get(request), response.statusCode);
        spans.delete(request);
      },
    ],
    [
      'http.client.request.error',
      (message) => {
        const { request, error } = message as { request: ClientRequest; error: unknown };
        finish(spans.get(request), undefined, error);
        spans.delete(request);
      },
    ],
  ];
}

interface UndiciRequest {
  origin: string | URL;
  method: string;
  path: string;
}

/** fetch() (undici): the span ends with the response headers; the body is the caller's business. */
function fetchSubscriptions(tracer: Tracer, hosts: UpstreamHosts): Subscription[] {
  const spans = new WeakMap<UndiciRequest, Span>();
  return [
    [
      'undici:request:create',
      (message) => {
        const { request } = message as { request: UndiciRequest };
        const host = new URL(String(request.origin)).host;
        const span = startSpan(tracer, hosts, { method: request.method, host, path: request.path });
        if (span) spans.set(request, span);
      },
    ],
    [
      'undici:request:headers',
      (message) => {
        const { request, response } = message as { request: UndiciRequest; response: { statusCode: number } };
        finish(spans.get(request), response.statusCode);
        spans.delete(request);
      },
    ],
    [
      'undici:request:error',
      (message) => {
        const { request, error } = message as { request: UndiciRequest; error: unknown };
        finish(spans.get(request), undefined, error);
        spans.delete(request);
      },
    ],
  ];
}

interface RedisCommandContext {
  command?: string;
  batchMode?: string;
  serverAddress?: string;
  serverPort?: number;
  error?: unknown;
}

/** ioredis ≥ 5.10 publishes every command on tracing channels; arguments are never recorded. */
function redisSubscription(tracer: Tracer, channel: string): () => void {
  const spans = new WeakMap<object, Span>();
  const end = (ctx: RedisCommandContext) => {
    finish(spans.get(ctx), undefined, ctx.error);
    spans.delete(ctx);
  };
  const handlers = {
    start: (message: unknown) => {
      const ctx = message as RedisCommandContext;
      const operation = ctx.command ?? ctx.batchMode ?? 'batch';
      spans.set(
        ctx,
        tracer.startSpan(
          `redis ${operation}`,
          {
            kind: SpanKind.CLIENT,
            attributes: {
              'signer.upstream': 'redis',
              'db.system.name': 'redis',
              'db.operation.name': operation,
              ...(ctx.serverAddress ? { 'server.address': ctx.serverAddress } : {}),
              ...(ctx.serverPort ? { 'server.port': ctx.serverPort } : {}),
            },
          },
          context.active(),
        ),
      );
    },
    // A command that throws synchronously never reaches asyncEnd.
    end: (message: unknown) => {
      if ((message as RedisCommandContext).error !== undefined) end(message as RedisCommandContext);
    },
    asyncStart: () => undefined,
    asyncEnd: (message: unknown) => end(message as RedisCommandContext),
    error: () => undefined,
  };
  const tracing = diagnostics.tracingChannel(channel);
  tracing.subscribe(handlers);
  return () => tracing.unsubscribe(handlers);
}

/**
 * Spans for every outbound call, taken at the wire (Node's diagnostics channels for http, fetch
 * and ioredis), so each adapter — Licensing, registry, KMS, Fulcio, Authority, Redis — is traced
 * without tracing code of its own; the active gate span is the parent. PostgreSQL spans come from
 * the audit sink itself. Returns the unsubscribe function.
 */
export function subscribeUpstreamSpans(tracer: Tracer, hosts: UpstreamHosts): () => void {
  const subscriptions = [...httpClientSubscriptions(tracer, hosts), ...fetchSubscriptions(tracer, hosts)];
  for (const [name, handler] of subscriptions) diagnostics.subscribe(name, handler);
  const redis = ['ioredis:command', 'ioredis:batch'].map((channel) => redisSubscription(tracer, channel));
  return () => {
    for (const [name, handler] of subscriptions) diagnostics.unsubscribe(name, handler);
    for (const unsubscribe of redis) unsubscribe();
  };
}
