import type { TLSSocket } from 'node:tls';
import type { CallerCredentials } from '@signer/core';
import type { FastifyRequest } from 'fastify';

/** Per-request facts the access log line needs; set by controllers and the problem responder. */
export interface RequestOutcome {
  code: string;
  tenant?: string;
  auditId?: string;
}

const outcomes = new WeakMap<FastifyRequest, RequestOutcome>();

export function setOutcome(request: FastifyRequest, outcome: RequestOutcome): void {
  outcomes.set(request, outcome);
}

export function getOutcome(request: FastifyRequest): RequestOutcome | undefined {
  return outcomes.get(request);
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

/** What the pipeline needs to authenticate the caller; `htu` is the URL as seen at the public base URL. */
export function callerCredentials(request: FastifyRequest, publicBaseUrl: string): CallerCredentials {
  const path = request.url.split('?')[0].split('#')[0];
  return {
    authorization: header(request, 'authorization'),
    dpopProof: header(request, 'dpop'),
    method: request.method.toUpperCase(),
    htu: `${publicBaseUrl}${path}`,
    clientCertificate: clientCertificate(request),
  };
}
