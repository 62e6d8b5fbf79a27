import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';

const spans = new WeakMap<FastifyRequest, Span>();

type Handler = (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) => unknown;

/**
 * A server span per request, made the active context while its route handler runs (so gate spans
 * nest under it). Joins the caller's trace when a W3C `traceparent` header is sent. Installed only
 * when tracing is on; call before the routes are registered (before `app.init()`).
 */
export function traceRequests(fastify: FastifyInstance, tracer: Tracer): void {
  fastify.addHook('onRequest', async (request) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = request.routeOptions?.url ?? 'unmatched';
    spans.set(
      request,
      tracer.startSpan(
        `${request.method} ${route}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': request.method,
            'http.route': route,
            'signer.correlation_id': String(request.id),
          },
        },
        parent,
      ),
    );
  });
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const handler = route.handler as Handler;
    route.handler = function traced(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const span = spans.get(request);
      if (!span) return handler.call(this, request, reply);
      return context.with(trace.setSpan(context.active(), span), () => handler.call(this, request, reply));
    } as RouteOptions['handler'];
  });
  fastify.addHook('onResponse', async (request, reply) => {
    const span = spans.get(request);
    if (!span) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}

/** The trace id of a request's span, for its access-log line. */
export function requestTraceId(request: FastifyRequest): string | undefined {
  return spans.get(request)?.spanContext().traceId;
}
