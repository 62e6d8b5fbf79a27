import type { FastifyBaseLogger } from 'fastify';
import pino, { type Bindings, type ChildLoggerOptions, type Logger } from 'pino';
import { activeTraceIds } from './tracing';

/**
 * Paths that may carry secrets; pino replaces them before a line is written. Request logging
 * never includes headers or bodies in the first place — this is the second fence.
 */
const SECRET_KEYS = [
  'authorization',
  'dpop',
  'dpopProof',
  'proof',
  'poe',
  'token',
  'accessToken',
  'identityToken',
  'privateKey',
  'privateKeyPem',
  'password',
  'secret',
  // A JWK's private part; URLs that may embed credentials (postgres://user:pass@…).
  'd',
  'postgresUrl',
  'redisUrl',
];

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.dpop',
  'req.headers.cookie',
  'headers.authorization',
  'headers.dpop',
  'headers.cookie',
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`]),
];

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env['SIGNER_LOG_LEVEL'] ?? 'info',
      base: { service: 'signer-api' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      // The active span's ids on every line logged inside a traced request; nothing when tracing is off.
      mixin: activeTraceIds,
    },
    options.destination,
  );
}

/**
 * Fastify's per-request logger (`request.log`), made only when something logs through it. Fastify
 * builds one child per request, and a child of a logger with redaction costs more than the rest
 * of the request's logging; our access line is written by the onResponse hook on the root logger
 * and names the correlation id itself, so on the normal path no child is ever made. A line that
 * does go through `request.log` (Fastify's own error reports) still carries the request's bindings.
 */
class LazyRequestLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(value: string) {
    this.real().level = value;
  }

  fatal(...args: unknown[]): void {
    this.forward('fatal', args);
  }
  error(...args: unknown[]): void {
    this.forward('error', args);
  }
  warn(...args: unknown[]): void {
    this.forward('warn', args);
  }
  info(...args: unknown[]): void {
    this.forward('info', args);
  }
  debug(...args: unknown[]): void {
    this.forward('debug', args);
  }
  trace(...args: unknown[]): void {
    this.forward('trace', args);
  }
  silent(...args: unknown[]): void {
    this.forward('silent', args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }

  private real(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.options);
    return this.made;
  }

  private forward(
    method: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent',
    args: unknown[],
  ): void {
    (this.real()[method] as (...a: unknown[]) => void)(...args);
  }
}

/** Fastify's `childLoggerFactory`: see {@link LazyRequestLogger}. */
export function lazyChildLoggerFactory(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, options);
}
