import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ProblemResponder } from './problem-responder';

/** The one exception filter: everything Nest catches becomes a contract problem. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly responder: ProblemResponder) {}

  catch(exception: unknown, host: ArgumentsHost): Promise<FastifyReply> {
    const http = host.switchToHttp();
    return this.responder.respond(
      exception,
      http.getRequest<FastifyRequest>(),
      http.getResponse<FastifyReply>(),
    );
  }
}
