import { readFileSync } from 'node:fs';
import { preAuthEncoding } from '@signer/core';
import { EndlessBodyServer, RedirectingProxy } from '@signer/testing';
import { FULCIO_MAX_ANSWER_BYTES, FULCIO_MAX_CONFIGURATION_BYTES } from '../src/keyless/fulcio-client';
import { refusal, startKeylessWorld, type KeylessWorld } from './keyless-fixture';

const pae = preAuthEncoding('application/vnd.in-toto+json', Buffer.from('{"subject":[]}'));
// What an endless answer may cost beyond the limit: what the sockets buffer (both sides of the
// loopback connection). Far below what reading until the deadline would take (gigabytes).
const SOCKET_SLACK_BYTES = 32 * 1024 * 1024;

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('keyless signing against a hostile Fulcio', () => {
  let world: KeylessWorld;
  beforeEach(async () => {
    world = await startKeylessWorld();
  });
  afterEach(() => world.close());

  describe('when Fulcio redirects the certificate request to another origin', () => {
    let proxy: RedirectingProxy;
    beforeEach(async () => {
      proxy = await RedirectingProxy.start(world.fulcio.url);
    });
    afterEach(() => proxy.close());

    it('signs through the proxy while it forwards (the redirect target is the real Fulcio)', async () => {
      const result = await world.signer({ fulcioUrl: proxy.url }).signer.sign(pae);
      expect(result.certificateChain).toHaveLength(3);
      expect(world.fulcio.issuedCount()).toBe(1);
    });

    it.each([[302], [307], [308]])(
      'refuses HTTP %i without following it: the token never reaches the target',
      async (status) => {
        proxy.redirect(status);
        const error = await refusal(world.signer({ fulcioUrl: proxy.url }).signer.sign(pae));
        expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'fulcio' });
        expect(error.message).toContain(`redirect (HTTP ${status}), not followed`);
        expect(error.retryAfterSeconds).toBeUndefined();
        // The request that was redirected carried the identity token; Fulcio behind it saw nothing.
        const [redirected, ...others] = proxy.redirected();
        const sent = JSON.parse(redirected.body.toString('utf8')) as {
          credentials: { oidcIdentityToken: string };
        };
        expect(sent.credentials.oidcIdentityToken).toBe(readFileSync(world.tokenFile, 'utf8').trim());
        expect(others).toEqual([]);
        expect(world.fulcio.calls).toEqual([]);
      },
    );

    it('fails the readiness probe without following the redirect', async () => {
      proxy.redirect(307);
      const error = await rejection(world.signer({ fulcioUrl: proxy.url }).sessions.probe());
      expect(error.message).toBe('Fulcio answered a redirect (HTTP 307), not followed');
      expect(proxy.redirected()).toHaveLength(1);
      expect(world.fulcio.configurationRequests).toBe(0);
    });
  });

  describe('when Fulcio answers with a body that never ends', () => {
    let endless: EndlessBodyServer;
    beforeEach(async () => {
      endless = await EndlessBodyServer.start({ boundBytes: 1024 * 1024 * 1024 });
    });
    afterEach(() => endless.close());

    it('refuses the certificate answer once it passes the limit, and hangs up', async () => {
      const { signer } = world.signer({ fulcioUrl: endless.url, deadlineMs: 5000 });
      const error = await refusal(signer.sign(pae));
      expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'fulcio' });
      expect(error.message).toBe(
        `Fulcio answer refused: Fulcio signingCert answer is larger than ${FULCIO_MAX_ANSWER_BYTES} bytes`,
      );
      const answer = await endless.answerEnded();
      expect(answer.outcome).toBe('client-closed');
      expect(answer.written).toBeGreaterThan(FULCIO_MAX_ANSWER_BYTES);
      expect(answer.written).toBeLessThan(FULCIO_MAX_ANSWER_BYTES + SOCKET_SLACK_BYTES);
    });

    it('fails the readiness probe once the configuration passes its limit', async () => {
      const error = await rejection(world.signer({ fulcioUrl: endless.url }).sessions.probe(5000));
      expect(error.message).toBe(
        `Fulcio configuration is larger than ${FULCIO_MAX_CONFIGURATION_BYTES} bytes`,
      );
      expect((await endless.answerEnded()).outcome).toBe('client-closed');
    });
  });

  describe('when many requests share one certificate', () => {
    it('gives each signature its own chain: changing one result changes no other', async () => {
      const { signer } = world.signer();
      const [first, second] = await Promise.all([signer.sign(pae), signer.sign(pae)]);
      const chain = [...(second.certificateChain ?? [])];
      first.certificateChain?.splice(0, 1, 'not a certificate');
      expect(second.certificateChain).toEqual(chain);
      expect((await signer.describe()).certificateChain).toEqual(chain);
      expect((await signer.sign(pae)).certificateChain).toEqual(chain);
      expect(world.fulcio.calls).toHaveLength(1);
    });
  });

  describe('when the certificate fetch that concurrent requests share is refused', () => {
    it('refuses them all with one Fulcio call, keeps nothing, and the next request fetches again', async () => {
      const { signer } = world.signer();
      world.fulcio.failNext(1, 403);
      const refusals = await Promise.all(Array.from({ length: 20 }, () => refusal(signer.sign(pae))));
      expect(refusals.every((e) => e.code === 'upstream_unavailable' && e.auditId === undefined)).toBe(true);
      expect(world.fulcio.calls.map((c) => c.status)).toEqual([403]);
      const result = await signer.sign(pae);
      expect(result.certificateChain).toHaveLength(3);
      expect(world.fulcio.calls.map((c) => c.status)).toEqual([403, 200]);
    });
  });
});
