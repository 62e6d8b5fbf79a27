import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { SignerRuntime } from '../wiring/create-runtime';
import { SIGNER_RUNTIME } from './tokens';

@Controller()
export class HealthController {
  constructor(@Inject(SIGNER_RUNTIME) private readonly runtime: SignerRuntime) {}

  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * 200 only when every configured dependency answered in the last cached round (one round at a
   * time, reused for `server.readinessCacheMs`). Anyone may ask, so the answer names no
   * dependency: each one's state is on the admin listener (`server.adminPort`).
   */
  @Get('readyz')
  async readyz(@Res() reply: FastifyReply): Promise<void> {
    const { ready } = await this.runtime.readiness.report();
    await reply
      .status(ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: ready ? 'ready' : 'not_ready' });
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.runtime.metrics.text();
  }
}
