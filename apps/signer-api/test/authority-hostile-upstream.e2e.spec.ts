import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DpopKey } from '@signer/client';
import { AuthorityEndpoint, EndlessBodyServer, RedirectingProxy } from '@signer/testing';
import { AuthorityHarness, expectRefusal } from './authority-harness';

jest.setTimeout(30_000);

/** The Signer configured for OIDC discovery on `issuer` (no jwksFile). */
const discoveringFrom = (issuer: string, onJwks: (jwks: unknown) => void = () => undefined) =>
  AuthorityHarness.start({
    tokenDefaults: { issuer },
    configure: (raw, dir) => {
      onJwks(JSON.parse(readFileSync(join(dir, 'authority/jwks.json'), 'utf8')));
      const { jwksFile: _file, ...authority } = raw['authority'];
      raw['authority'] = { ...authority, issuer };
    },
  });

/** One signing request with a valid token and proof (no nonce: the keys are needed first). */
const signOnce = async (h: AuthorityHarness) => {
  const key = await DpopKey.generate();
  const token = await h.mint({ jkt: key.thumbprint });
  return h.post(h.body(await h.poe()), {
    authorization: `DPoP ${token}`,
    dpop: await h.proof(key, token),
  });
};

describe('Authority keys from a hostile upstream (loopback)', () => {
  describe('when the discovery document never ends', () => {
    const bound = 64 * 1024 * 1024;
    let endless: EndlessBodyServer;
    let h: AuthorityHarness;

    beforeAll(async () => {
      endless = await EndlessBodyServer.start({ boundBytes: bound });
      h = await discoveringFrom(endless.url);
    });
    afterAll(async () => {
      await h.close();
      await endless.close();
    });

    it('stops reading near the byte limit, hangs up, and answers 503 upstream_unavailable', async () => {
      // The start-up fetch met the endless document first.
      const answer = await endless.answerEnded(0);
      expect(answer.outcome).toBe('client-closed');
      expect(answer.written).toBeLessThan(bound / 4);
      expectRefusal(h, await signOnce(h), {
        status: 503,
        code: 'upstream_unavailable',
        reason: /authority keys unavailable/,
      });
    });
  });

  describe('when the discovery URL redirects to another origin', () => {
    let endpoint: AuthorityEndpoint;
    let proxy: RedirectingProxy;
    let h: AuthorityHarness;

    beforeAll(async () => {
      endpoint = await AuthorityEndpoint.start();
      proxy = await RedirectingProxy.start(endpoint.origin);
      // The configured issuer is the proxy; the real Authority behind it names it as issuer.
      endpoint.discoveryIssuer = proxy.url;
      proxy.redirect(307);
      h = await discoveringFrom(proxy.url, (jwks) => {
        endpoint.jwks = jwks as AuthorityEndpoint['jwks'];
      });
    });
    afterAll(async () => {
      await h.close();
      await proxy.close();
      await endpoint.close();
    });

    it('does not follow it (503 upstream_unavailable), and works once the upstream answers itself', async () => {
      expectRefusal(h, await signOnce(h), { status: 503, code: 'upstream_unavailable' });
      expect(proxy.redirected().length).toBeGreaterThanOrEqual(1);
      expect(endpoint.count('/.well-known/openid-configuration')).toBe(0);

      proxy.redirect(undefined);
      h.clock.advanceSeconds(31); // past jwksFetch.cooldownSeconds
      expect((await signOnce(h)).statusCode).not.toBe(503);
      expect(endpoint.count('/.well-known/openid-configuration')).toBe(1);
    });
  });
});
