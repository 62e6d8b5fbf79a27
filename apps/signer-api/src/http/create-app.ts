import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController } from 'fastify';
import type { Logger } from 'pino';
import { requestTraceId, traceRequests } from '../observability/http-spans';
import { createLogger, lazyChildLoggerFactory } from '../observability/logger';
import type { SignerRuntime } from '../wiring/create-runtime';
import { ProblemFilter } from './problem.filter';
import { ProblemResponder } from './problem-responder';
import { answerOf, decisionOf } from './request-context';
import { SignerModule } from './signer.module';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Echo a caller's correlation id only when it is safe to log and echo; otherwise mint one. */
export function correlationId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && CORRELATION_ID.test(value) ? value : randomUUID();
}

class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
}

const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;
const NODE_HEADERS_TIMEOUT_MS = 60_000;

/**
 * Node's own timeouts for `server.requestTimeoutMs`. Node checks them every
 * `connectionsCheckingInterval` (30 s by default: too coarse), and it silently stretches a request
 * timeout shorter than `headersTimeout` (60 s) to that value, so both are set here.
 */
function serverTimeouts(requestTimeoutMs: number): {
  connectionsCheckingInterval: number;
  headersTimeout: number;
} {
  return {
    connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
    headersTimeout: Math.min(NODE_HEADERS_TIMEOUT_MS, requestTimeoutMs),
  };
}

export interface CreateAppOptions {
  logger?: Logger;
  https?: { key: Buffer; cert: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: boolean };
}

/** The Nest application on Fastify, initialised but not listening (tests use `inject()`). */
export async function createApp(
  runtime: SignerRuntime,
  options: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  const logger = options.logger ?? createLogger();
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    childLoggerFactory: lazyChildLoggerFactory,
    // One access line per request is written by our onResponse hook, with the outcome code.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'correlationId' }),
    bodyLimit: runtime.config.server.bodyLimitBytes,
    requestTimeout: runtime.config.server.requestTimeoutMs,
    keepAliveTimeout: runtime.config.server.keepAliveTimeoutMs,
    genReqId: (request: IncomingMessage) => correlationId(request.headers['x-correlation-id']),
    return503OnClosing: true,
    ...(options.https
      ? { https: { ...options.https, ...serverTimeouts(runtime.config.server.requestTimeoutMs) } }
      : { http: serverTimeouts(runtime.config.server.requestTimeoutMs) }),
  });
  const app = await NestFactory.create<NestFastifyApplication>(SignerModule.forRuntime(runtime), adapter, {
    logger: new PinoNestLogger(logger),
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.server.maxConnections = runtime.config.server.maxConnections;
  // Each path's methods, for 405 and its Allow header (routes are registered by app.init() below).
  const routes = new Map<string, Set<string>>();
  fastify.addHook('onRoute', (route) => {
    const methods = routes.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    routes.set(route.url, methods);
  });
  app.useGlobalFilters(new ProblemFilter(new ProblemResponder(runtime, logger, routes)));
  // JSON only (contract §2.4: any other content type is 415); Fastify would parse text/plain.
  fastify.removeContentTypeParser('text/plain');
  // Callback-style hooks: an async hook costs a promise per request for nothing here.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-correlation-id', request.id);
    done();
  });
  if (runtime.telemetry) traceRequests(fastify, runtime.telemetry.tracer);
  fastify.addHook('onResponse', (request, reply, done) => {
    try {
      if (!logger.isLevelEnabled('info')) return;
      const answer = answerOf(request);
      logger.info(
        {
          correlationId: request.id,
          method: request.method,
          route: request.routeOptions?.url ?? 'unmatched',
          status: reply.statusCode,
          outcome: answer?.code,
          tenant: decisionOf(request)?.record.tenant,
          auditId: answer?.auditId,
          latencyMs: Math.round(reply.elapsedTime * 1000) / 1000,
          traceId: requestTraceId(request),
        },
        'request completed',
      );
    } finally {
      done();
    }
  });
  // Fastify-level failures (content type, body size, JSON syntax) reach ProblemFilter through the
  // error handler Nest installs, so there is exactly one error path.
  await app.init();
  return app;
}
