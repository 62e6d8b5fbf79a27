import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { IncomingHttpHeaders } from 'node:http';
import { closeServer, startLoopbackServer } from '../loopback-http';
import { sigV4Problem, type SigV4Request } from './sigv4';

const credentials = { accessKeyId: 'AKIATESTSIGV4000000', secretAccessKey: 'sigv4-test-secret' };

/** One request exactly as the real AWS SDK signs it, captured at the wire. */
async function capturedRequest(): Promise<SigV4Request> {
  let captured: SigV4Request | undefined;
  const { server, port } = await startLoopbackServer((request, body, response) => {
    captured = { method: request.method ?? '', path: request.url ?? '', headers: request.headers, body };
    response.statusCode = 400;
    response.setHeader('content-type', 'application/x-amz-json-1.1');
    response.end(JSON.stringify({ __type: 'NotFoundException', message: 'x' }));
  });
  const client = new KMSClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'eu-west-1',
    credentials,
    maxAttempts: 1,
  });
  await client.send(new GetPublicKeyCommand({ KeyId: 'alias/x' })).catch(() => undefined);
  client.destroy();
  await closeServer(server);
  if (!captured) throw new Error('no request captured');
  return captured;
}

describe('sigV4Problem (the fake KMS request check)', () => {
  let request: SigV4Request;
  beforeAll(async () => {
    request = await capturedRequest();
  });
  const expectations = (overrides: Partial<Parameters<typeof sigV4Problem>[1]> = {}) => ({
    credentials,
    region: 'eu-west-1',
    service: 'kms',
    nowMs: Date.now(),
    ...overrides,
  });
  const withHeaders = (headers: IncomingHttpHeaders) => ({
    ...request,
    headers: { ...request.headers, ...headers },
  });

  describe('when the request is exactly what the SDK signed', () => {
    it('accepts it', () => {
      expect(sigV4Problem(request, expectations())).toBeUndefined();
    });
  });

  describe('when anything signed was changed or does not match', () => {
    it.each<[string, () => SigV4Request, Partial<Parameters<typeof sigV4Problem>[1]>, RegExp]>([
      [
        'a changed body',
        () => ({ ...request, body: Buffer.from('{"KeyId":"alias/y"}') }),
        {},
        /x-amz-content-sha256 does not match/,
      ],
      [
        'a changed body and declared hash',
        () => ({
          ...withHeaders({ 'x-amz-content-sha256': undefined }),
          body: Buffer.from('{"KeyId":"alias/y"}'),
        }),
        {},
        /signature does not match/,
      ],
      [
        'a changed target operation',
        () => withHeaders({ 'x-amz-target': 'TrentService.Sign' }),
        {},
        /signature does not match/,
      ],
      [
        'a signature made with another secret',
        () => request,
        { credentials: { ...credentials, secretAccessKey: 'other' } },
        /signature does not match/,
      ],
      [
        'an unknown access key',
        () => request,
        { credentials: { ...credentials, accessKeyId: 'AKIAOTHER' } },
        /unknown access key/,
      ],
      ['a signature for another region', () => request, { region: 'us-east-1' }, /wrong scope/],
      [
        'a replay ten minutes later',
        () => request,
        { nowMs: Date.now() + 10 * 60_000 },
        /outside the allowed window/,
      ],
      ['no signature at all', () => withHeaders({ authorization: undefined }), {}, /missing or malformed/],
    ])('refuses %s', (_label, make, overrides, message) => {
      expect(sigV4Problem(make(), expectations(overrides))).toMatch(message);
    });
  });
});
