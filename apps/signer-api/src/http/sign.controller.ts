import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { SIGN_ROUTE, type SignDsseResponse } from '@signer/core';
import type { FastifyRequest } from 'fastify';
import type { SignerRuntime } from '../wiring/create-runtime';
import { beginDecision, callerCredentials, setAnswer } from './request-context';
import { SIGNER_RUNTIME } from './tokens';

/** The `Idempotency-Key` header; repeated headers are joined so they fail validation rather than pick one. */
function idempotencyKey(request: FastifyRequest): string | undefined {
  const value = request.headers['idempotency-key'];
  return Array.isArray(value) ? value.join(',') : value;
}

@Controller('api/v1/signer')
export class SignController {
  constructor(@Inject(SIGNER_RUNTIME) private readonly runtime: SignerRuntime) {}

  /** `POST /sign/dsse` (contract §2.1). Refusals propagate to the problem filter, already audited. */
  @Post('sign/dsse')
  @HttpCode(200)
  async signDsse(@Req() request: FastifyRequest): Promise<SignDsseResponse> {
    const response = await this.runtime.pipeline.sign({
      trail: beginDecision(request, this.runtime.decisions, SIGN_ROUTE),
      body: request.body,
      credentials: callerCredentials(request, this.runtime.publicBaseUrl),
      idempotencyKey: idempotencyKey(request),
    });
    setAnswer(request, { code: 'signed', auditId: response.auditId });
    return response;
  }
}
