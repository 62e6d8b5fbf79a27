import { DevAuthority } from '@signer/dev';
import { AuthorityEndpoint, EndlessBodyServer, RedirectingProxy } from '@signer/testing';
import { ManualClock } from '@signer/testing';
import { DocumentFetchError, fetchJsonObject, MAX_DOCUMENT_BYTES } from './fetch-json';
import { discoverJwksUri } from './oidc-discovery';
import { RemoteJwks } from './remote-jwks';

/** Far above the limit: a client that reads whole runs into it; one that stops early never does. */
const BOUND_BYTES = 64 * 1024 * 1024;

const options = { fetch: globalThis.fetch, timeoutMs: 10_000 };

describe('fetchJsonObject', () => {
  describe('when the upstream streams a body without end', () => {
    let endless: EndlessBodyServer;

    beforeEach(async () => {
      endless = await EndlessBodyServer.start({ boundBytes: BOUND_BYTES });
    });
    afterEach(async () => {
      await endless.close();
    });

    it.each([
      ['a JWKS', (url: string) => fetchJsonObject(`${url}/jwks.json`, options)],
      ['a discovery document', (url: string) => discoverJwksUri(url, options)],
    ])('refuses %s at the size limit and hangs up', async (_name, read) => {
      const refusal = await read(endless.url).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refusal).toBeInstanceOf(DocumentFetchError);
      expect((refusal as Error).message).toMatch(`document larger than ${MAX_DOCUMENT_BYTES} bytes`);
      const answer = await endless.answerEnded();
      // The client hung up long before the bound: what it read was ≈ the limit, the rest of what
      // the server wrote sat in socket buffers.
      expect(answer.outcome).toBe('client-closed');
      expect(answer.written).toBeLessThan(BOUND_BYTES / 4);
    });

    it('honours a smaller maxBytes', async () => {
      await expect(
        fetchJsonObject(`${endless.url}/jwks.json`, { ...options, maxBytes: 1024 }),
      ).rejects.toThrow('document larger than 1024 bytes');
      expect((await endless.answerEnded()).outcome).toBe('client-closed');
    });
  });

  describe('when the upstream redirects to another origin', () => {
    let authority: AuthorityEndpoint;
    let proxy: RedirectingProxy;

    beforeEach(async () => {
      authority = await AuthorityEndpoint.start();
      authority.jwks = (await DevAuthority.create()).jwks();
      proxy = await RedirectingProxy.start(authority.origin);
    });
    afterEach(async () => {
      await proxy.close();
      await authority.close();
    });

    it.each([301, 302, 303, 307, 308])(
      'does not follow a %i: the other origin is never asked',
      async (status) => {
        proxy.redirect(status);
        await expect(fetchJsonObject(`${proxy.url}/jwks.json`, options)).rejects.toBeInstanceOf(
          DocumentFetchError,
        );
        expect(proxy.redirected()).toHaveLength(1);
        expect(authority.count('/jwks.json')).toBe(0);
      },
    );

    it('reads the document once the upstream answers it directly (the proxy forwards)', async () => {
      await expect(fetchJsonObject(`${proxy.url}/jwks.json`, options)).resolves.toMatchObject({
        keys: [expect.objectContaining({ kty: 'EC' })],
      });
    });
  });
});

describe('RemoteJwks URL rule', () => {
  const clock = new ManualClock(1_900_000_000_000);

  describe('when the location is plain http off loopback, or carries credentials', () => {
    it.each([
      [{ jwksUri: 'http://authority.example/jwks.json' }, /jwksUri: expected https/],
      [{ issuer: 'http://authority.example' }, /issuer: expected https/],
      [{ jwksUri: 'https://user:pw@authority.example/jwks.json' }, /jwksUri: expected no credentials/],
    ])('refuses to construct for %j', (location, message) => {
      expect(() => new RemoteJwks({ location, clock })).toThrow(message);
    });
  });

  describe('when the location is https, or plain http on loopback', () => {
    it.each([
      { jwksUri: 'https://authority.example/jwks.json' },
      { issuer: 'http://127.0.0.1:9000' },
      { jwksUri: 'http://[::1]:9000/jwks.json' },
    ])('constructs for %j', (location) => {
      expect(() => new RemoteJwks({ location, clock })).not.toThrow();
    });
  });
});
