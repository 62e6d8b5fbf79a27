import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import {
  CEREMONY_ROUTES,
  type Ceremony,
  type CeremonyListAnswer,
  type CeremonyRequest,
  type CeremonyStep,
} from '@signer/core';
import type { FastifyRequest } from 'fastify';
import type { SignerRuntime } from '../wiring/create-runtime';
import { beginDecision, callerCredentials, setAnswer } from './request-context';
import { SIGNER_RUNTIME } from './tokens';

/**
 * Dual-control ceremonies (contract §11). Thin: each route begins its decision, hands the path,
 * query, body and credentials to the core edge, and reports the answer; refusals arrive at the
 * problem filter already audited.
 */
@Controller('api/v1/signer/ceremonies')
export class CeremoniesController {
  constructor(@Inject(SIGNER_RUNTIME) private readonly runtime: SignerRuntime) {}

  @Post()
  @HttpCode(201)
  create(@Req() request: FastifyRequest, @Body() body: unknown): Promise<Ceremony> {
    return this.step(request, 'create', { body });
  }

  @Get()
  async list(
    @Req() request: FastifyRequest,
    @Query('status') status: unknown,
    @Query('limit') limit: unknown,
  ): Promise<CeremonyListAnswer> {
    const trail = beginDecision(request, this.runtime.decisions, CEREMONY_ROUTES.list);
    const answer = await this.runtime.ceremonies.endpoints.handle(trail, 'list', {
      credentials: callerCredentials(request, this.runtime.publicBaseUrl),
      query: { status, limit },
    });
    setAnswer(request, { code: 'checked', auditId: trail.auditId });
    return answer;
  }

  @Get(':id')
  get(@Req() request: FastifyRequest, @Param('id') id: unknown): Promise<Ceremony> {
    return this.step(request, 'get', { id });
  }

  @Post(':id/approve')
  @HttpCode(200)
  approve(@Req() request: FastifyRequest, @Param('id') id: unknown): Promise<Ceremony> {
    return this.step(request, 'approve', { id });
  }

  @Post(':id/reject')
  @HttpCode(200)
  reject(@Req() request: FastifyRequest, @Param('id') id: unknown, @Body() body: unknown): Promise<Ceremony> {
    return this.step(request, 'reject', { id, body });
  }

  @Post(':id/execute')
  @HttpCode(200)
  execute(@Req() request: FastifyRequest, @Param('id') id: unknown): Promise<Ceremony> {
    return this.step(request, 'execute', { id });
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@Req() request: FastifyRequest, @Param('id') id: unknown): Promise<Ceremony> {
    return this.step(request, 'cancel', { id });
  }

  private async step(
    request: FastifyRequest,
    step: Exclude<CeremonyStep, 'list'>,
    input: Omit<CeremonyRequest, 'credentials'>,
  ): Promise<Ceremony> {
    const trail = beginDecision(request, this.runtime.decisions, CEREMONY_ROUTES[step]);
    const ceremony = await this.runtime.ceremonies.endpoints.handle(trail, step, {
      credentials: callerCredentials(request, this.runtime.publicBaseUrl),
      ...input,
    });
    // `checked` for reads, and for a retry answered as a replay of a step that already committed.
    setAnswer(request, {
      code: trail.record.outcome === 'checked' ? 'checked' : 'ceremony',
      auditId: trail.auditId,
    });
    return ceremony;
  }
}
