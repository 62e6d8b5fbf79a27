// Floor (a): the cheapest Nest-on-Fastify endpoint that accepts the signing request — same route,
// same JSON body parser and body limit, answers `{}`. No guards, logging or work: what the Signer
// pays for HTTP and the framework alone. Run as a child process: `bench.js noop-server <port>`
// (listens on 127.0.0.1; prints "listening" when ready).
import 'reflect-metadata';
import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

const BODY_LIMIT_BYTES = 1048576;

@Controller('api/v1/signer')
class NoopController {
  @Post('sign/dsse')
  @HttpCode(200)
  sign(): Record<string, never> {
    return {};
  }
}

@Module({ controllers: [NoopController] })
class NoopModule {}

export async function serveNoop(portArg: string | undefined): Promise<void> {
  const port = Number(portArg);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`noop-server: expected a port, got ${portArg}`);
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES }); // Fastify's logger is off by default
  const app = await NestFactory.create<NestFastifyApplication>(NoopModule, adapter, {
    logger: ['error', 'warn'],
  });
  await app.listen({ host: '127.0.0.1', port });
  process.stdout.write('listening\n');
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void app.close().then(() => process.exit(0)));
  }
}
