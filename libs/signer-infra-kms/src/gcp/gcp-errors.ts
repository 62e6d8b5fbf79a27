import { answerRefusalIn } from '../kms/answer-refused';

// gRPC status codes (the default transport) and HTTP statuses (the REST transport) that mean
// "try again": quota (RESOURCE_EXHAUSTED / 429), unavailable, deadline, internal, aborted.
const RETRYABLE_GRPC = new Set([4, 8, 10, 13, 14]);
const RETRYABLE_HTTP = new Set([408, 429, 500, 502, 503, 504]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

/** Raised by the signer itself when a CRC32C check fails: the bytes were damaged in transit. */
export class IntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntegrityError';
  }
}

interface GcpErrorShape {
  code?: number | string;
  name?: string;
}

export function isGcpRetryable(error: unknown): boolean {
  if (error instanceof IntegrityError) return true;
  const { code, name } = (error ?? {}) as GcpErrorShape;
  if (name === 'AbortError' || name === 'TimeoutError') return true;
  if (typeof code === 'number') return code < 100 ? RETRYABLE_GRPC.has(code) : RETRYABLE_HTTP.has(code);
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

export function gcpErrorName(error: unknown): string {
  if (error instanceof IntegrityError) return error.message;
  const refused = answerRefusalIn(error);
  if (refused) return refused.message;
  const { code, name } = (error ?? {}) as GcpErrorShape;
  return code === undefined ? (name ?? 'unknown error') : `${name ?? 'Error'} code ${String(code)}`;
}
