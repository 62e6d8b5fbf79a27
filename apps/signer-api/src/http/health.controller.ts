import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { SignerRuntime } from '../wiring/create-runtime';
import { SIGNER_RUNTIME } from './tokens';

const READINESS_TIMEOUT_MS = 2000;

@Controller()
export class HealthController {
  constructor(@Inject(SIGNER_RUNTIME) private readonly runtime: SignerRuntime) {}

  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 only when every configured dependency answers; each one's state is reported. */
  @Get('readyz')
  async readyz(@Res() reply: FastifyReply): Promise<void> {
    const results = await Promise.all(
      this.runtime.readiness.map(async ({ name, check }) => {
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) =>
              setTimeout(() => reject(new Error('timeout')), READINESS_TIMEOUT_MS).unref(),
            ),
          ]);
          return [name, 'ok'] as const;
        } catch {
          return [name, 'unavailable'] as const;
        }
      }),
    );
    const ready = results.every(([, state]) => state === 'ok');
    await reply
      .status(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not_ready', dependencies: Object.fromEntries(results) });
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.runtime.metrics.text();
  }
}
