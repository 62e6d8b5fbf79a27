import pino, { type Logger } from 'pino';
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
