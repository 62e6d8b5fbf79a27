// Floor (a): the cheapest Nest-on-Fastify endpoint that accepts the signing request — same route,
// same JSON body parser and body limit, answers `{}`. No guards, logging or work: what the Signer
// pays for HTTP and the framework alone. Plain JS, so decorators are applied with Reflect.decorate.
// Usage: node noop-server.mjs <port>  (listens on 127.0.0.1; prints "listening" when ready)
import 'reflect-metadata';
import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';

const BODY_LIMIT_BYTES = 1048576;

class NoopController {
  sign() {
    return {};
  }
}
Reflect.decorate([Controller('api/v1/signer')], NoopController);
const proto = NoopController.prototype;
Object.defineProperty(
  proto,
  'sign',
  Reflect.decorate(
    [Post('sign/dsse'), HttpCode(200)],
    proto,
    'sign',
    Object.getOwnPropertyDescriptor(proto, 'sign'),
  ),
);

class NoopModule {}
Reflect.decorate([Module({ controllers: [NoopController] })], NoopModule);

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: noop-server.mjs <port>\n');
  process.exit(2);
}
const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES }); // Fastify's logger is off by default
const app = await NestFactory.create(NoopModule, adapter, { logger: ['error', 'warn'] });
await app.listen({ host: '127.0.0.1', port });
process.stdout.write('listening\n');
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => app.close().then(() => process.exit(0)));
}
