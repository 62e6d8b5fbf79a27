import type { TLSSocket } from 'node:tls';
import type { CallerCredentials, DecisionLog, DecisionTrail } from '@signer/core';
import type { FastifyRequest } from 'fastify';

/** What a request has answered, for its access-log line. */
export interface RequestAnswer {
  code: string;
  auditId?: string;
}

/** A request's decision (the trail travels with the request) and its answer. */
interface RequestContext {
  trail?: DecisionTrail;
  answer?: RequestAnswer;
}

const contexts = new WeakMap<FastifyRequest, RequestContext>();

function contextOf(request: FastifyRequest): RequestContext {
  let context = contexts.get(request);
  if (context === undefined) {
    context = {};
    contexts.set(request, context);
  }
  return context;
}

/** Begins the request's decision on `route` (a fixed route name) and keeps it with the request. */
export function beginDecision(request: FastifyRequest, decisions: DecisionLog, route: string): DecisionTrail {
  const trail = decisions.begin(String(request.id), route);
  contextOf(request).trail = trail;
  return trail;
}

/** The request's decision, if one was begun. */
export function decisionOf(request: FastifyRequest): DecisionTrail | undefined {
  return contexts.get(request)?.trail;
}

export function setAnswer(request: FastifyRequest, answer: RequestAnswer): void {
  contextOf(request).answer = answer;
}

export function answerOf(request: FastifyRequest): RequestAnswer | undefined {
  return contexts.get(request)?.answer;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The verified client certificate of a TLS connection, if one was presented and authorised. */
function clientCertificate(request: FastifyRequest): Buffer | undefined {
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (!socket.encrypted || !socket.authorized || typeof socket.getPeerCertificate !== 'function')
    return undefined;
  const certificate = socket.getPeerCertificate(false);
  return certificate && certificate.raw ? certificate.raw : undefined;
}

/** The request's path, without query or fragment. */
export function requestPath(request: FastifyRequest): string {
  return request.url.split('?')[0].split('#')[0];
}

/** What the pipeline needs to authenticate the caller; `htu` is the URL as seen at the public base URL. */
export function callerCredentials(request: FastifyRequest, publicBaseUrl: string): CallerCredentials {
  return {
    authorization: header(request, 'authorization'),
    dpopProof: header(request, 'dpop'),
    method: request.method.toUpperCase(),
    htu: `${publicBaseUrl}${requestPath(request)}`,
    clientCertificate: clientCertificate(request),
  };
}
