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

type LevelMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LEVEL_METHODS: readonly LevelMethod[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Fastify's per-request logger (`request.log`), made only when something logs through it. Fastify
 * builds one child per request, and a child of a logger with redaction costs more than the rest
 * of the request's logging; our access line is written by the onResponse hook on the root logger
 * and names the correlation id itself, so on the normal path no child is ever made. A line that
 * does go through `request.log` (Fastify's own error reports) still carries the request's bindings.
 */
export function lazyChildLoggerFactory(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  let child: FastifyBaseLogger | undefined;
  const real = (): FastifyBaseLogger => (child ??= logger.child(bindings, options));
  const lazy = {
    get level(): string {
      return child?.level ?? logger.level;
    },
    set level(value: string) {
      real().level = value;
    },
    child: (childBindings: Bindings, childOptions?: ChildLoggerOptions) =>
      real().child(childBindings, childOptions),
  } as FastifyBaseLogger;
  for (const method of LEVEL_METHODS) {
    (lazy as unknown as Record<LevelMethod, (...args: unknown[]) => void>)[method] = (...args: unknown[]) =>
      (real()[method] as (...a: unknown[]) => void)(...args);
  }
  return lazy;
}
