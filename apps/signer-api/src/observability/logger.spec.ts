import { Writable } from 'node:stream';
import { createLogger, lazyChildLoggerFactory } from './logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

describe('lazyChildLoggerFactory (Fastify request.log)', () => {
  it('makes no child logger for a request that logs nothing through it', () => {
    const { logger } = capture();
    const child = jest.spyOn(logger, 'child');
    const requestLog = lazyChildLoggerFactory(logger, { correlationId: 'c-1' }, {});
    expect(requestLog.level).toBe('info');
    expect(child).not.toHaveBeenCalled();
  });

  it('writes through one real child, with the request bindings and the root redaction', async () => {
    const { lines, logger } = capture();
    const child = jest.spyOn(logger, 'child');
    const requestLog = lazyChildLoggerFactory(logger, { correlationId: 'c-2' }, {});
    requestLog.error({ authorization: 'DPoP secret-token' }, 'first');
    requestLog.warn('second');
    requestLog.debug('below the level');
    await new Promise((resolve) => setImmediate(resolve));
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 'error',
      correlationId: 'c-2',
      msg: 'first',
      authorization: '[redacted]',
    });
    expect(lines[1]).toMatchObject({ level: 'warn', correlationId: 'c-2', msg: 'second' });
    expect(JSON.stringify(lines)).not.toContain('secret-token');
  });

  it('hands level changes and grandchildren to the real child', async () => {
    const { lines, logger } = capture();
    const requestLog = lazyChildLoggerFactory(logger, { correlationId: 'c-3' }, {});
    requestLog.level = 'debug';
    requestLog.child({ part: 'body' }).debug('deeper');
    await new Promise((resolve) => setImmediate(resolve));
    expect(logger.level).toBe('info');
    expect(lines).toEqual([expect.objectContaining({ correlationId: 'c-3', part: 'body', msg: 'deeper' })]);
  });
});
