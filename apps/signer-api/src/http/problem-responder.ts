import { SignerError, toSignerError, type SignerErrorCode } from '@signer/core';
import { HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { SignerRuntime } from '../wiring/create-runtime';
import { ERROR_TABLE } from './error-table';
import { setOutcome } from './request-context';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_TYPE_BASE = 'https://stella-ops.org/problems/signer/';

/** Maps transport-level failures (Fastify, Nest routing) onto contract codes. */
function fromTransport(error: unknown): SignerError {
  if (error instanceof SignerError) return error;
  const fastifyCode = (error as { code?: string }).code;
  const status = (error as { statusCode?: number }).statusCode;
  if (fastifyCode === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new SignerError('invalid_request', 'content-type: expected application/json', { status: 415 });
  }
  if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new SignerError('artifact_too_large', 'body: larger than server.bodyLimitBytes');
  }
  if (
    fastifyCode?.startsWith('FST_ERR_CTP_') ||
    error instanceof SyntaxError ||
    (status === 400 && fastifyCode !== undefined)
  ) {
    return new SignerError('invalid_request', 'body: expected a JSON object');
  }
  if (error instanceof HttpException) {
    // Nest re-wraps Fastify's own errors (content type, body size, JSON syntax) by status.
    const httpStatus = error.getStatus();
    if (httpStatus === 415)
      return new SignerError('invalid_request', 'content-type: expected application/json', { status: 415 });
    if (httpStatus === 413)
      return new SignerError('artifact_too_large', 'body: larger than server.bodyLimitBytes');
    if (httpStatus === 400) return new SignerError('invalid_request', 'body: expected a JSON object');
    if (httpStatus === 404) return new SignerError('invalid_request', 'no such route', { status: 404 });
    if (httpStatus === 405) return new SignerError('invalid_request', 'method not allowed', { status: 405 });
    if (httpStatus < 500)
      return new SignerError('invalid_request', 'request refused', { status: httpStatus });
  }
  return toSignerError(error);
}

function challenge(
  scheme: string,
  code: SignerErrorCode,
  detail: string,
  runtime: SignerRuntime,
  presentedCredentials: boolean,
): string {
  // RFC 6750 §3.1: a request with no authentication information gets a challenge without an error code.
  const params = presentedCredentials ? [`error="${code}"`, `error_description="${detail}"`] : [];
  if (code === 'insufficient_scope') params.push(`scope="${runtime.config.authority.requiredScope}"`);
  if (scheme === 'DPoP') params.push(`algs="${runtime.config.authority.allowedAlgorithms.join(' ')}"`);
  return `${scheme} ${params.join(', ')}`;
}

/**
 * Turns any failure into the contract's problem+json (RFC 9457) with `code` and `auditId`, audits
 * refusals that never reached the pipeline, counts them, and logs them (4xx warn, 5xx error) with
 * their cause — never with a token, a PoE or key material.
 */
export class ProblemResponder {
  constructor(
    private readonly runtime: SignerRuntime,
    private readonly logger: Logger,
  ) {}

  async respond(thrown: unknown, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const error = fromTransport(thrown);
    if (!error.auditId) {
      const route = `${request.method} ${request.routeOptions?.url ?? request.url.split('?')[0]}`;
      await this.runtime.pipeline.refuse(this.runtime.pipeline.trail(String(request.id), route), error);
    }
    const entry = ERROR_TABLE[error.code];
    const status = error.status ?? entry.status;
    this.runtime.metrics.refusal(error);
    const log = status >= 500 ? this.logger.error.bind(this.logger) : this.logger.warn.bind(this.logger);
    const cause = error.cause as { name?: string; message?: string } | undefined;
    log(
      {
        correlationId: request.id,
        code: error.code,
        status,
        auditId: error.auditId,
        reason: error.message,
        ...(cause ? { cause: `${cause.name ?? 'Error'}: ${cause.message ?? ''}` } : {}),
        ...(error.upstream ? { upstream: error.upstream } : {}),
        ...((error as { auditFailure?: unknown }).auditFailure ? { auditFailed: true } : {}),
      },
      'request refused',
    );
    setOutcome(request, { code: error.code, auditId: error.auditId });

    const detail = entry.showMessage ? `${entry.detail}: ${error.message}` : entry.detail;
    if (error.retryAfterSeconds !== undefined)
      reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
    if (status === 401 || error.code === 'insufficient_scope') {
      const scheme = /^\s*bearer\s/i.test(String(request.headers.authorization ?? '')) ? 'Bearer' : 'DPoP';
      const presented = request.headers.authorization !== undefined;
      reply.header('www-authenticate', challenge(scheme, error.code, entry.detail, this.runtime, presented));
    }
    if (error.dpopNonce) reply.header('dpop-nonce', error.dpopNonce);
    return reply
      .status(status)
      .header('content-type', PROBLEM_CONTENT_TYPE)
      .send({
        type: `${PROBLEM_TYPE_BASE}${error.code}`,
        title: entry.title,
        status,
        detail,
        code: error.code,
        auditId: error.auditId,
        instance: request.url.split('?')[0],
      });
  }
}
