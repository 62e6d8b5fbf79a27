import { parseRetryAfter, SignerProblemError, SignerTransportError, toProblemCode } from './client-errors';
import type { SignerProblem } from './wire-types';

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** A response with its body already read, so the timeout covers the whole exchange. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** Sends one request; a timeout aborts both the connection and the body read. */
export async function exchange(
  fetchImpl: typeof fetch,
  request: HttpRequest,
  timeoutMs: number,
): Promise<HttpAnswer> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetchImpl(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: controller.signal,
      redirect: 'error',
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  } catch (cause) {
    if (controller.signal.aborted) {
      throw new SignerTransportError(
        'timeout',
        `${request.method} ${pathOf(request.url)}: no answer within ${timeoutMs} ms`,
        { cause },
      );
    }
    throw new SignerTransportError(
      'network_error',
      `${request.method} ${pathOf(request.url)}: request failed`,
      { cause },
    );
  } finally {
    clearTimeout(timer);
  }
}

/** The problem body, when the answer is one; `undefined` for anything else. */
export function problemOf(answer: HttpAnswer): SignerProblem | undefined {
  const body = parseJsonObject(answer.text);
  return body !== undefined && typeof body['code'] === 'string' ? (body as SignerProblem) : undefined;
}

/** What the caller knows about the exchange that the answer does not say. */
export interface AnswerContext {
  /** Requests sent for this call, retries included. */
  attempts?: number;
}

/** Turns a non-2xx answer into the error a caller branches on. */
export function problemError(answer: HttpAnswer, context: AnswerContext = {}): SignerProblemError {
  const problem = problemOf(answer);
  const code = toProblemCode(problem?.code);
  const detail =
    code === 'unexpected_response'
      ? `HTTP ${answer.status} without a Signer problem body${problem?.code ? ` (code ${JSON.stringify(problem.code)})` : ''}`
      : (problem?.detail ?? problem?.title ?? `HTTP ${answer.status}`);
  return new SignerProblemError({
    status: answer.status,
    code,
    detail,
    auditId: typeof problem?.auditId === 'string' ? problem.auditId : undefined,
    retryAfterSeconds: parseRetryAfter(answer.headers.get('retry-after')),
    correlationId: answer.headers.get('x-correlation-id') ?? undefined,
    problem,
    attempts: context.attempts,
  });
}

/** The JSON object of a 2xx answer; anything else is an `unexpected_response`. */
export function successBody<T>(answer: HttpAnswer, context: AnswerContext = {}): T {
  if (answer.status < 200 || answer.status > 299) throw problemError(answer, context);
  const body = parseJsonObject(answer.text);
  if (body === undefined) {
    throw new SignerProblemError({
      status: answer.status,
      code: 'unexpected_response',
      detail: `HTTP ${answer.status} without a JSON object body`,
      correlationId: answer.headers.get('x-correlation-id') ?? undefined,
      attempts: context.attempts,
    });
  }
  return body as T;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function pathOf(url: string): string {
  return new URL(url).pathname;
}
