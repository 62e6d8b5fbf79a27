import type { HttpAnswer } from './http-exchange';
import type { Exchange } from './ledger';

/** One header of an answer, as a single string. */
export function header(answer: HttpAnswer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Copies what the checks need from an answer into its exchange: status, contract code and auditId
 * (problem+json or a signed answer), headers, `/readyz`'s `status`, and a 200's body.
 */
export function readAnswer(exchange: Exchange, answer: HttpAnswer): void {
  exchange.status = answer.status;
  exchange.retryAfter = header(answer, 'retry-after');
  exchange.allow = header(answer, 'allow');
  exchange.correlationEcho = header(answer, 'x-correlation-id');
  exchange.problemJson = (header(answer, 'content-type') ?? '').startsWith('application/problem+json');
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(answer.body) as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  exchange.code = typeof parsed?.['code'] === 'string' ? parsed['code'] : undefined;
  exchange.auditId = typeof parsed?.['auditId'] === 'string' ? parsed['auditId'] : undefined;
  if (exchange.kind === 'readyz-flood' && typeof parsed?.['status'] === 'string')
    exchange.readiness = parsed['status'];
  else if (answer.status === 200 && parsed) exchange.response = parsed;
}
