import { randomUUID } from 'node:crypto';
import { DEV_INSTALLATION, DEV_TENANT } from '@signer/dev';
import { EndlessBodyServer, FakeLicensingServer, INTROSPECT_PATH, RedirectingProxy } from '@signer/testing';
import type { LightMyRequestResponse } from 'fastify';
import { onlineLicensing } from './entitlement-harness';
import { Caller, startHarness, validBody, type Harness } from './harness';

/** The dev scanner release is 1.4.2 (2025): this licence allows it. */
const GOOD = {
  tenant: DEV_TENANT,
  installation: DEV_INSTALLATION,
  plan: 'pro',
  valid_release_year: 2030,
  max_version: '1.99.99',
};

/** Online Licensing at `introspectUrl`, nothing cached between requests (each PoE is new anyway). */
const onlineAt = (introspectUrl: string) =>
  startHarness({ configure: onlineLicensing(introspectUrl, { timeoutMs: 5000 }) });

function expectUnavailable(harness: Harness, response: LightMyRequestResponse): void {
  expect(response.statusCode).toBe(503);
  const body = response.json();
  expect(body).toMatchObject({ code: 'upstream_unavailable' });
  const record = harness.auditLines().find((line) => line['auditId'] === body.auditId);
  expect(record).toMatchObject({ outcome: 'upstream_unavailable' });
}

describe('PoE gate with a hostile Licensing upstream (loopback)', () => {
  describe('when Licensing answers a redirect to another origin', () => {
    let licensing: FakeLicensingServer;
    let proxy: RedirectingProxy;
    let harness: Harness;
    let caller: Caller;

    beforeAll(async () => {
      licensing = await FakeLicensingServer.start();
      // The proxy is the configured Licensing; its Location names the real one on another port.
      proxy = await RedirectingProxy.start(new URL(licensing.url).origin);
      harness = await onlineAt(`${proxy.url}${INTROSPECT_PATH}`);
      caller = await Caller.create(harness);
    });
    afterAll(async () => {
      await harness.close();
      await proxy.close();
      await licensing.stop();
    });

    it.each([307, 308, 302])(
      'answers %i with 503 upstream_unavailable; the PoE never reaches the Location',
      async (status) => {
        const poe = await licensing.issue({ ...GOOD, license_id: `lic-${randomUUID()}` });
        proxy.redirect(status);
        expectUnavailable(
          harness,
          await caller.sign(validBody(harness, { poe: { format: 'jwt', value: poe } })),
        );
        expect(proxy.redirected().at(-1)?.answer).toBe(status);
        expect(licensing.callsFor(poe)).toBe(0);

        // The same PoE through the same proxy, forwarding: signed (the refusal was not cached).
        proxy.redirect(undefined);
        const signed = await caller.sign(validBody(harness, { poe: { format: 'jwt', value: poe } }));
        expect(signed.statusCode).toBe(200);
        expect(licensing.callsFor(poe)).toBe(1);
      },
    );
  });

  describe('when Licensing streams an answer without end', () => {
    const bound = 64 * 1024 * 1024;
    let endless: EndlessBodyServer;
    let harness: Harness;

    beforeAll(async () => {
      endless = await EndlessBodyServer.start({ boundBytes: bound });
      harness = await onlineAt(`${endless.url}${INTROSPECT_PATH}`);
    });
    afterAll(async () => {
      await harness.close();
      await endless.close();
    });

    it('answers 503 upstream_unavailable and hangs up near the byte limit', async () => {
      const caller = await Caller.create(harness);
      expectUnavailable(harness, await caller.sign(validBody(harness)));
      const answer = await endless.answerEnded();
      expect(answer.outcome).toBe('client-closed');
      expect(answer.written).toBeLessThan(bound / 4);
    });
  });
});
