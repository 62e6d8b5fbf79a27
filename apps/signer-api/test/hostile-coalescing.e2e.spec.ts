import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DpopKey } from '@signer/client';
import { DEV_INSTALLATION, DEV_TENANT, DevAuthority, generateReleaseKey } from '@signer/dev';
import {
  AuthorityEndpoint,
  FakeLicensingServer,
  FulcioTestCa,
  ReferrersRegistry,
  TcpProxy,
  TestOidcIssuer,
} from '@signer/testing';
import type { LightMyRequestResponse } from 'fastify';
import { AuthorityHarness, discoveryOptions } from './authority-harness';
import { onlineLicensing } from './entitlement-harness';
import { Caller, startHarness, validBody, type Harness } from './harness';
import { startRegistryHarness, type RegistryHarness } from './release-harness';
import { KEYLESS_SUBJECT, keylessBody, startKeylessSigner, type KeylessSigner } from './signing-fixtures';

jest.setTimeout(60_000);

/**
 * Requests sent at once that wait on one upstream call. Below the anonymous-record budget (100 per
 * second), so even the refusals made before authentication each get a record of their own.
 */
const N = 24;

type AuditLine = Record<string, unknown>;

/**
 * Every answer is a 503 `upstream_unavailable` of its own: N distinct auditIds, each in exactly one
 * record of the trail, and that record says what was refused (`expected` fields, outcome).
 */
function expectOwnRefusals(
  answers: LightMyRequestResponse[],
  trail: AuditLine[],
  expected: Record<string, unknown>,
): void {
  expect(answers.map((a) => a.statusCode)).toEqual(Array(answers.length).fill(503));
  const problems = answers.map((a) => a.json() as { code: string; auditId: string });
  expect(problems.map((p) => p.code)).toEqual(Array(answers.length).fill('upstream_unavailable'));
  const ids = problems.map((p) => p.auditId);
  expect(new Set(ids).size).toBe(answers.length);
  const records = ids.map((id) => trail.filter((line) => line['auditId'] === id));
  expect(records.map((found) => found.length)).toEqual(Array(answers.length).fill(1));
  expect(records.map(([record]) => record)).toEqual(
    Array(answers.length).fill(expect.objectContaining({ outcome: 'upstream_unavailable', ...expected })),
  );
}

/** N copies of one request, all sent before any is answered. */
const atOnce = (send: (n: number) => Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse[]> =>
  Promise.all(Array.from({ length: N }, (_, n) => send(n)));

const freshDigest = () => `sha256:${randomBytes(32).toString('hex')}`;

/** Polls until `done` holds (the Signer's own progress is only visible from outside). */
async function until(done: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Decisions that passed (or were refused at) one pipeline stage, from `/metrics`. */
async function stageCount(harness: Harness, stage: string): Promise<number> {
  const text = await harness.runtime.metrics.text();
  const match = new RegExp(`^signer_request_duration_seconds_count\\{stage="${stage}"\\} (\\d+)$`, 'm').exec(
    text,
  );
  return Number(match?.[1] ?? 0);
}

describe('concurrent refusals that share one upstream failure', () => {
  describe('keyless certificate fetch (Fulcio)', () => {
    let oidc: TestOidcIssuer;
    let ca: FulcioTestCa;
    let dir: string;
    let signer: KeylessSigner;
    beforeAll(async () => {
      [oidc, ca] = await Promise.all([TestOidcIssuer.create(), FulcioTestCa.create()]);
      dir = mkdtempSync(join(tmpdir(), 'signer-coalescing-'));
      signer = await startKeylessSigner({ oidc, ca, dir });
    });
    afterAll(async () => {
      await signer.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const keyless = () => atOnce(() => signer.caller.sign(keylessBody(signer.harness)));
    const keylessRefused = {
      mode: 'keyless',
      gates: expect.objectContaining({ sign: 'upstream_unavailable' }),
    };

    describe("when Fulcio refuses the Signer's identity token", () => {
      it('gives each waiting request its own refusal and record, after one Fulcio call', async () => {
        const stranger = await TestOidcIssuer.create(oidc.issuer);
        writeFileSync(signer.tokenFile, await stranger.mint({ email: KEYLESS_SUBJECT }));
        const quotaBefore = await stageCount(signer.harness, 'quota');
        // Fulcio holds the first certificate request until every request has passed the quota
        // gate (the last one before signing): all of them then wait on that one call.
        const gate = signer.fulcio.hold();
        const pending = keyless();
        try {
          await until(
            async () =>
              (await stageCount(signer.harness, 'quota')) === quotaBefore + N &&
              signer.fulcio.waiting() === 1,
          );
        } finally {
          gate.release();
        }
        expectOwnRefusals(await pending, signer.harness.auditLines(), keylessRefused);
        expect(signer.fulcio.calls.map((call) => call.outcome)).toEqual(['token-rejected']);
      });
    });

    describe('when Fulcio answers 503 until the deadline', () => {
      it('gives each waiting request its own refusal and record, after one retry sequence', async () => {
        writeFileSync(signer.tokenFile, await oidc.mint({ email: KEYLESS_SUBJECT }));
        const before = signer.fulcio.calls.length;
        signer.fulcio.failAll(503);
        try {
          expectOwnRefusals(await keyless(), signer.harness.auditLines(), keylessRefused);
        } finally {
          signer.fulcio.failAll(undefined);
        }
        // One sequence within the 2 s deadline (backoff from 100 ms, doubling) is at most 6
        // attempts; a sequence per request would be at least N.
        const calls = signer.fulcio.calls.slice(before);
        expect(calls.length).toBeGreaterThanOrEqual(2);
        expect(calls.length).toBeLessThanOrEqual(6);
        expect(calls.every((call) => call.status === 503)).toBe(true);
      });
    });
  });

  describe('release verdicts (OCI registry)', () => {
    let registry: ReferrersRegistry;
    let proxy: TcpProxy;
    let signer: RegistryHarness;
    beforeAll(async () => {
      registry = await ReferrersRegistry.start();
      proxy = await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(registry.baseUrl).port) });
      signer = await startRegistryHarness({
        registryUrl: `http://127.0.0.1:${proxy.port}`,
        trustedKeys: [generateReleaseKey('ecdsa-p256')],
        env: { SIGNER__RELEASEINTEGRITY__TIMEOUTMS: '1500' },
      });
      // Settles the caller's DPoP nonce (an unsigned release: 403, nothing cached that matters).
      expect((await signer.sign(freshDigest())).statusCode).toBe(403);
    });
    afterAll(async () => {
      await signer.close();
      await proxy.close();
      await registry.close();
    });
    const requestsSince = (before: number) => registry.requests.length - before;

    describe('when the registry is cut off', () => {
      afterAll(() => proxy.restore());

      it('gives each signing and verification of the digest its own refusal and record', async () => {
        proxy.cut();
        const digest = freshDigest();
        const answers = await atOnce((n) => (n % 2 === 0 ? signer.sign(digest) : signer.verify(digest)));
        expectOwnRefusals(answers, signer.harness.auditLines(), {
          scannerImageDigest: digest,
          gates: expect.objectContaining({ release: 'upstream_unavailable' }),
        });
      });
    });

    describe('when the registry answers 500', () => {
      afterAll(() => void (registry.fault = 'none'));

      it('gives each waiting request its own refusal and record, with fewer walks than requests', async () => {
        registry.fault = 'error-500';
        const before = registry.requests.length;
        const digest = freshDigest();
        expectOwnRefusals(await atOnce(() => signer.sign(digest)), signer.harness.auditLines(), {
          scannerImageDigest: digest,
        });
        // The registry answers at once, so a late request may start a walk of its own; one walk
        // asks at least once.
        expect(requestsSince(before)).toBeGreaterThanOrEqual(1);
        expect(requestsSince(before)).toBeLessThan(N);
      });
    });

    describe('when the registry does not answer within timeoutMs', () => {
      afterAll(() => void (registry.fault = 'none'));

      it('gives each waiting request its own refusal and record, after one walk', async () => {
        registry.fault = 'hang';
        let before = registry.requests.length;
        expectOwnRefusals([await signer.sign(freshDigest())], signer.harness.auditLines(), {});
        const oneWalk = requestsSince(before);
        before = registry.requests.length;
        const digest = freshDigest();
        expectOwnRefusals(await atOnce(() => signer.sign(digest)), signer.harness.auditLines(), {
          scannerImageDigest: digest,
        });
        expect(requestsSince(before)).toBe(oneWalk);
      });
    });
  });

  describe('PoE look-ups (online Licensing)', () => {
    const TIMEOUT_MS = 1000;
    let licensing: FakeLicensingServer;
    let harness: Harness;
    let caller: Caller;
    const issue = () =>
      licensing.issue({
        tenant: DEV_TENANT,
        installation: DEV_INSTALLATION,
        plan: 'pro',
        license_id: `lic-${randomUUID()}`,
        valid_release_year: 2030,
        max_version: '1.99.99',
      });
    const signWith = (poe: string) => caller.sign(validBody(harness, { poe: { format: 'jwt', value: poe } }));
    const poeRefused = { gates: expect.objectContaining({ poe: 'upstream_unavailable' }) };

    beforeAll(async () => {
      licensing = await FakeLicensingServer.start();
      harness = await startHarness({
        configure: onlineLicensing(licensing.url, { timeoutMs: TIMEOUT_MS }),
      });
      caller = await Caller.create(harness);
      // Settles the DPoP nonce with a PoE of its own (the ones below are each asked about once).
      expect((await signWith(await issue())).statusCode).toBe(200);
    });
    afterEach(async () => {
      licensing.failAll(undefined);
      await licensing.restart();
    });
    afterAll(async () => {
      await harness.close();
      await licensing.stop();
    });

    describe('when Licensing is down (connection refused)', () => {
      it('gives each request with the PoE its own refusal and record', async () => {
        const poe = await issue();
        await licensing.stop();
        expectOwnRefusals(await atOnce(() => signWith(poe)), harness.auditLines(), poeRefused);
        expect(licensing.callsFor(poe)).toBe(0);
      });
    });

    describe('when Licensing answers 500', () => {
      it('gives each request with the PoE its own refusal and record, with fewer look-ups than requests', async () => {
        const poe = await issue();
        licensing.failAll({ kind: 'status', status: 500 });
        expectOwnRefusals(await atOnce(() => signWith(poe)), harness.auditLines(), poeRefused);
        // Licensing answers at once, so a late request may start a look-up of its own.
        expect(licensing.callsFor(poe)).toBeGreaterThanOrEqual(1);
        expect(licensing.callsFor(poe)).toBeLessThan(N);
      });
    });

    describe('when Licensing does not answer within licensing.timeoutMs', () => {
      it('gives each request with the PoE its own refusal and record, after one look-up', async () => {
        const poe = await issue();
        const delayMs = TIMEOUT_MS + 500;
        const started = Date.now();
        licensing.failAll({ kind: 'slow', delayMs });
        expectOwnRefusals(await atOnce(() => signWith(poe)), harness.auditLines(), poeRefused);
        expect(licensing.callsFor(poe)).toBe(1);
        // The fake answers late, to nobody; its timer ends before the server stops.
        await until(() => Date.now() > started + delayMs + 50);
      });
    });
  });

  describe('Authority keys refresh (remote JWKS)', () => {
    let endpoint: AuthorityEndpoint;
    let h: AuthorityHarness;
    beforeAll(async () => {
      endpoint = await AuthorityEndpoint.start();
      h = await AuthorityHarness.start(discoveryOptions(endpoint.origin, (jwks) => (endpoint.jwks = jwks)));
    });
    afterAll(async () => {
      await h.close();
      await endpoint.close();
    });

    describe('when the Authority is down and a token names a kid the Signer does not know', () => {
      it('gives each request with the token its own refusal and record, after one refetch', async () => {
        expect((await h.signAsValidCaller(await h.poe())).statusCode).toBe(200); // keys fetched
        endpoint.mode = 'fail';
        h.clock.advanceSeconds(31); // past the refetch cooldown: the unknown kid may trigger one refetch
        const fetches = endpoint.count('/jwks.json');
        const key = await DpopKey.generate();
        const token = await (
          await DevAuthority.create('rotated-in-unseen')
        ).mint({
          issuer: endpoint.origin,
          tenant: h.profile.tenant,
          installation: h.profile.installation,
          now: h.clock.seconds(),
          jkt: key.thumbprint,
        });
        const [nonce, poe] = [await h.nonce(), await h.poe()];
        // One token, so every request waits on the same verification; each has a proof of its own.
        const proofs = await Promise.all(Array.from({ length: N }, () => h.proof(key, token, { nonce })));
        const answers = await atOnce((n) =>
          h.post(h.body(poe), { authorization: `DPoP ${token}`, dpop: proofs[n] }),
        );
        expectOwnRefusals(answers, h.auditLines(), {
          gates: expect.objectContaining({ optok: 'upstream_unavailable' }),
        });
        expect(endpoint.count('/jwks.json')).toBe(fetches + 1);
      });
    });
  });
});
