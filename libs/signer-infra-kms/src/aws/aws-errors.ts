import { answerRefusalIn } from '../kms/answer-refused';

// Transient by AWS' own account: throttling, KMS-side faults, a dependency timing out.
const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'KMSInternalException',
  'DependencyTimeoutException',
  'ServiceUnavailableException',
  'InternalFailure',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
]);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

interface AwsErrorShape {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Whether a failed KMS call may succeed if tried again shortly. */
export function isAwsRetryable(error: unknown): boolean {
  const e = (error ?? {}) as AwsErrorShape;
  if (e.name && RETRYABLE_NAMES.has(e.name)) return true;
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/** The AWS error name, for logs (never the message, which may quote request values). */
export function awsErrorName(error: unknown): string {
  // Ours, not AWS': its message names the refusal and the limit, nothing from the request.
  const refused = answerRefusalIn(error);
  if (refused) return refused.message;
  const e = (error ?? {}) as AwsErrorShape;
  return e.name ?? e.code ?? 'unknown error';
}
