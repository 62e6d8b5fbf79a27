import {
  isRedirectStatus,
  readBoundedBody,
  UpstreamBodyTooLargeError,
  upstreamUrlProblem,
} from './upstream-policy';

function source(
  chunks: Uint8Array[],
  contentLength?: number,
): { headers: Headers; body: ReadableStream<Uint8Array> } {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled < chunks.length) controller.enqueue(chunks[pulled++]);
      else controller.close();
    },
  });
  const headers = new Headers(contentLength === undefined ? {} : { 'content-length': String(contentLength) });
  return { headers, body: body as ReadableStream<Uint8Array> };
}

describe('upstreamUrlProblem', () => {
  it.each([
    'https://licensing.example/introspect',
    'http://127.0.0.1:9000/x',
    'http://localhost/x',
    'http://[::1]:1/x',
  ])('accepts %s', (url) => expect(upstreamUrlProblem(url)).toBeUndefined());

  it.each([
    ['http://licensing.example/introspect', /https/],
    ['http://10.0.0.1/x', /https/],
    ['ftp://127.0.0.1/x', /https/],
    ['not a url', /absolute URL/],
    ['https://user:pw@licensing.example/', /no credentials/],
  ])('refuses %s', (url, reason) => expect(upstreamUrlProblem(url)).toMatch(reason));
});

describe('readBoundedBody', () => {
  describe('when the body fits', () => {
    it('returns every byte in order', async () => {
      const bytes = await readBoundedBody(source([Buffer.from('ab'), Buffer.from('cd')]), 4, 'doc');
      expect(bytes.toString()).toBe('abcd');
    });
  });

  describe('when Content-Length declares more than the limit', () => {
    it('refuses before reading a byte', async () => {
      const chunks = [Buffer.alloc(10)];
      const input = source(chunks, 1_000_000);
      await expect(readBoundedBody(input, 100, 'doc')).rejects.toBeInstanceOf(UpstreamBodyTooLargeError);
    });
  });

  describe('when a chunked body runs past the limit', () => {
    it('stops reading at the first chunk over the limit', async () => {
      let served = 0;
      const endless = new ReadableStream<Uint8Array>({
        pull(controller) {
          served += 1;
          controller.enqueue(new Uint8Array(64 * 1024));
        },
      });
      const input = { headers: new Headers(), body: endless as ReadableStream<Uint8Array> };
      await expect(readBoundedBody(input, 256 * 1024, 'jwks')).rejects.toThrow(
        'jwks: expected at most 262144 bytes, got more',
      );
      expect(served).toBeLessThanOrEqual(7);
    });
  });
});

describe('isRedirectStatus', () => {
  it('names 301, 302, 303, 307 and 308 redirects and nothing else', () => {
    expect([301, 302, 303, 307, 308].every(isRedirectStatus)).toBe(true);
    expect([200, 204, 304, 400, 404, 500].some(isRedirectStatus)).toBe(false);
  });
});
