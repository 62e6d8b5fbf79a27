import pino, { type Logger } from 'pino';

/**
 * Paths that may carry secrets; pino replaces them before a line is written. Request logging
 * never includes headers or bodies in the first place — this is the second fence.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.dpop',
  'headers.authorization',
  'headers.dpop',
  'authorization',
  'dpop',
  'poe',
  '*.poe',
  'token',
  '*.token',
  'privateKey',
  '*.privateKey',
];

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env['SIGNER_LOG_LEVEL'] ?? 'info',
      base: { service: 'signer-api' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}
