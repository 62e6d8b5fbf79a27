import { boundedText, ceremonyRouteScopes, SignerError, type SignerErrorCode } from '@signer/core';
import { HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { SignerRuntime } from '../wiring/create-runtime';
import { ERROR_TABLE, TRANSPORT_REFUSALS, type TransportRefusal } from './error-table';
import { beginDecision, decisionOf, requestPath, setAnswer } from './request-context';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_TYPE_BASE = 'https://stella-ops.org/problems/signer/';
/** The route of a request no route matched: a fixed value, never the caller's URL. */
export const UNMATCHED_ROUTE = 'unmatched';
/** Longest refusal reason or cause written to a log line (they can quote a caller's field names). */
const MAX_LOGGED_REASON = 512;

/** Every route's path and the methods it answers, for `405` and its `Allow` header. */
export type KnownRoutes = ReadonlyMap<string, ReadonlySet<string>>;

/** The framework refusal a failure is (body parsing, routing), or undefined for the Signer's own. */
function transportRefusal(error: unknown): TransportRefusal | undefined {
  if (error instanceof SignerError) return undefined;
  const fastifyCode = (error as { code?: unknown }).code;
  const status =
    error instanceof HttpException ? error.getStatus() : (error as { statusCode?: number }).statusCode;
  const code = typeof fastifyCode === 'string' ? fastifyCode : '';
  // Nest re-wraps Fastify's own errors by status, so both spellings are recognised.
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415)
    return TRANSPORT_REFUSALS.unsupportedMediaType;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) return TRANSPORT_REFUSALS.bodyTooLarge;
  if (status === 404) return TRANSPORT_REFUSALS.noRoute;
  if (status === 405) return TRANSPORT_REFUSALS.methodNotAllowed;
  if (code.startsWith('FST_ERR_CTP_') || error instanceof SyntaxError || status === 400)
    return TRANSPORT_REFUSALS.malformedBody;
  if (status !== undefined && status >= 400 && status < 500) return TRANSPORT_REFUSALS.otherClientError;
  return undefined;
}

function challenge(
  scheme: string,
  code: SignerErrorCode,
  detail: string,
  runtime: SignerRuntime,
  presentedCredentials: boolean,
  route: string,
): string {
  // RFC 6750 §3.1: a request with no authentication information gets a challenge without an error code.
  const params = presentedCredentials ? [`error="${code}"`, `error_description="${detail}"`] : [];
  if (code === 'insufficient_scope') {
    // Ceremony routes accept their own scopes (any one of them); every other route, signing's.
    const scopes = ceremonyRouteScopes(route) ?? [runtime.config.authority.requiredScope];
    params.push(`scope="${scopes.join(' ')}"`);
  }
  if (scheme === 'DPoP') params.push(`algs="${runtime.config.authority.allowedAlgorithms.join(' ')}"`);
  return `${scheme} ${params.join(', ')}`;
}

/**
 * Turns any failure into the contract's problem+json (RFC 9457) with `code` and `auditId`. A
 * refusal made before a route's pipeline (body parsing, routing) is refused through the same
 * decision log as every other, on the request's own decision; an unmatched route is audited under
 * a fixed route name, and a known path with the wrong method answers `405` with `Allow`. Refusals
 * are counted and logged (4xx warn, 5xx error) with their cause — never with a token, a PoE or key
 * material, and with caller-influenced text bounded.
 */
export class ProblemResponder {
  constructor(
    private readonly runtime: SignerRuntime,
    private readonly logger: Logger,
    private readonly routes: KnownRoutes,
  ) {}

  async respond(thrown: unknown, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    let transport = transportRefusal(thrown);
    const path = requestPath(request);
    const allowed = transport === TRANSPORT_REFUSALS.noRoute ? this.routes.get(path) : undefined;
    if (allowed) transport = TRANSPORT_REFUSALS.methodNotAllowed;
    const trail =
      decisionOf(request) ??
      beginDecision(request, this.runtime.decisions, this.routeName(request, transport));
    const refused = transport ? new SignerError(transport.code, transport.reason, { cause: thrown }) : thrown;
    const error = await this.runtime.decisions.refuse(trail, refused);
    const entry = ERROR_TABLE[error.code];
    const status = transport?.status ?? entry.status;
    this.runtime.metrics.refusal(error);
    this.log(request, error, status);
    setAnswer(request, { code: error.code, auditId: error.auditId });

    const detail = entry.showMessage
      ? `${entry.detail}: ${boundedText(error.message, MAX_LOGGED_REASON)}`
      : entry.detail;
    if (allowed) reply.header('allow', [...allowed].sort().join(', '));
    if (error.retryAfterSeconds !== undefined)
      reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
    if (status === 401 || error.code === 'insufficient_scope') {
      const scheme = /^\s*bearer\s/i.test(String(request.headers.authorization ?? '')) ? 'Bearer' : 'DPoP';
      const presented = request.headers.authorization !== undefined;
      reply.header(
        'www-authenticate',
        challenge(scheme, error.code, entry.detail, this.runtime, presented, trail.record.route),
      );
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
        instance: boundedText(path),
      });
  }

  /** The audit route of a refusal made outside a route's pipeline: never the caller's raw URL. */
  private routeName(request: FastifyRequest, transport: TransportRefusal | undefined): string {
    const matched = request.routeOptions?.url;
    if (matched !== undefined) return `${request.method} ${matched}`;
    if (transport === TRANSPORT_REFUSALS.methodNotAllowed) return `${request.method} ${requestPath(request)}`;
    return UNMATCHED_ROUTE;
  }

  private log(request: FastifyRequest, error: SignerError, status: number): void {
    const log = status >= 500 ? this.logger.error.bind(this.logger) : this.logger.warn.bind(this.logger);
    const cause = error.cause as { name?: string; message?: string } | undefined;
    log(
      {
        correlationId: request.id,
        code: error.code,
        status,
        auditId: error.auditId,
        reason: boundedText(error.message, MAX_LOGGED_REASON),
        ...(cause
          ? { cause: boundedText(`${cause.name ?? 'Error'}: ${cause.message ?? ''}`, MAX_LOGGED_REASON) }
          : {}),
        ...(error.upstream ? { upstream: error.upstream } : {}),
        ...(error.auditFailure !== undefined ? { auditFailed: true } : {}),
      },
      'request refused',
    );
  }
}
