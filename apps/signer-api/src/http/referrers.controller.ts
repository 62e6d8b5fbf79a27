import { Controller, Get, Inject, Query, Req } from '@nestjs/common';
import { REFERRERS_ROUTE, type ReleaseVerdict } from '@signer/core';
import type { FastifyRequest } from 'fastify';
import type { SignerRuntime } from '../wiring/create-runtime';
import { beginDecision, callerCredentials, setAnswer } from './request-context';
import { SIGNER_RUNTIME } from './tokens';

@Controller('api/v1/signer')
export class ReferrersController {
  constructor(@Inject(SIGNER_RUNTIME) private readonly runtime: SignerRuntime) {}

  /** `GET /verify/referrers?digest=` (contract §2.2): the release verdict, trusted or not. */
  @Get('verify/referrers')
  async verify(@Req() request: FastifyRequest, @Query('digest') digest: unknown): Promise<ReleaseVerdict> {
    const trail = beginDecision(request, this.runtime.decisions, REFERRERS_ROUTE);
    const verdict = await this.runtime.referrers.check(
      trail,
      typeof digest === 'string' ? digest : '',
      callerCredentials(request, this.runtime.publicBaseUrl),
    );
    setAnswer(request, { code: 'checked', auditId: trail.auditId });
    return verdict;
  }
}
