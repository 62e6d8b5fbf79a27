import { randomUUID } from 'node:crypto';
import { DEV_INSTALLATION, DEV_TENANT, DevLicensing, type PoeClaims } from '@signer/dev';
import { FakeLicensingServer } from '@signer/testing';
import { ManualClock } from '@signer/testing';
import { onlineLicensing } from './entitlement-harness';
import { expectProblem } from './problem';
import { Caller, startHarness, validBody, type Harness } from './harness';

const CACHE_TTL = 10;
const NEGATIVE_TTL = 5;

/** The dev scanner release is 1.4.2, created 2025-06-01; this licence allows it. */
const GOOD: PoeClaims = {
  tenant: DEV_TENANT,
  installation: DEV_INSTALLATION,
  plan: 'pro',
  valid_release_year: 2030,
  max_version: '1.99.99',
};

describe('PoE gate with online Licensing (fake Licensing on loopback)', () => {
  const clock = new ManualClock();
  const issued: string[] = [];
  let licensing: FakeLicensingServer;
  let harness: Harness;
  let caller: Caller;

  /** A fresh PoE (own licence id) issued by the fake Licensing. */
  const issue = async (claims: PoeClaims = {}, options: { lifetimeSeconds?: number; now?: number } = {}) => {
    const poe = await licensing.issue({ ...GOOD, license_id: `lic-${randomUUID()}`, ...claims }, options);
    issued.push(poe);
    return poe;
  };
  const sign = (poe: string, overrides: Record<string, unknown> = {}) =>
    caller.sign(validBody(harness, { poe: { format: 'jwt', value: poe }, ...overrides }));
  const auditOf = (auditId: unknown) => harness.auditLines().find((record) => record['auditId'] === auditId);

  beforeAll(async () => {
    licensing = await FakeLicensingServer.start();
    harness = await startHarness({
      clock,
      configure: onlineLicensing(licensing.url, {
        cacheTtlSeconds: CACHE_TTL,
        negativeCacheTtlSeconds: NEGATIVE_TTL,
        timeoutMs: 300,
      }),
    });
    caller = await Caller.create(harness);
  });
  beforeEach(async () => {
    clock.reset();
    licensing.failAll(undefined);
    await licensing.restart();
  });
  afterAll(async () => {
    // No PoE value ever reached a log line or an audit record.
    const logs = harness.logs.lines.join('\n');
    const trail = JSON.stringify(harness.auditLines());
    for (const poe of issued) {
      expect(logs).not.toContain(poe);
      expect(trail).not.toContain(poe);
    }
    await harness.close();
    await licensing.stop();
  });

  describe('when Licensing answers active for this tenant and installation', () => {
    it('signs, audits the licence, and serves the next request from the decision cache', async () => {
      const poe = await issue({ license_id: 'lic-online-1' });
      const first = await sign(poe);
      expect(first.statusCode).toBe(200);
      expect(first.json().policy).toMatchObject({ plan: 'pro' });
      expect(auditOf(first.json().auditId)).toMatchObject({ outcome: 'signed', licenseId: 'lic-online-1' });
      expect((await sign(poe)).statusCode).toBe(200);
      expect(licensing.callsFor(poe)).toBe(1);
      expect(await harness.runtime.metrics.text()).toMatch(/signer_cache_hits_total\{cache="poe"\} [1-9]/);
    });

    it('allows a release exactly at the window edge (year and max_version inclusive)', async () => {
      expect((await sign(await issue({ valid_release_year: 2025, max_version: '1.4.2' }))).statusCode).toBe(
        200,
      );
    });

    it('makes one Licensing call for many concurrent first requests with one PoE', async () => {
      const poe = await issue();
      const responses = await Promise.all(Array.from({ length: 8 }, () => sign(poe)));
      expect(responses.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
      expect(licensing.callsFor(poe)).toBe(1);
    });
  });

  describe('when Licensing denies or the licence does not fit', () => {
    it.each([
      ['inactive', { active: false }, 403, 'entitlement_denied'],
      ['expired', { lifetimeSeconds: -60 }, 403, 'entitlement_denied'],
      ['for another tenant', { tenant: 'tenant-other' }, 403, 'tenant_mismatch'],
      ['for another installation', { installation: 'inst-other' }, 403, 'tenant_mismatch'],
      [
        'with a release year window before the release',
        { valid_release_year: 2024 },
        403,
        'entitlement_denied',
      ],
      ['with max_version below the release', { max_version: '1.4.1' }, 403, 'entitlement_denied'],
      [
        'with max_version a pre-release of the release',
        { max_version: '1.4.2-rc.1' },
        403,
        'entitlement_denied',
      ],
      ['on a plan not configured here', { plan: 'platinum' }, 403, 'entitlement_denied'],
      [
        'with a plan override the statement exceeds',
        { limits: { maxArtifactBytes: 64 } },
        413,
        'artifact_too_large',
      ],
    ] as Array<[string, PoeClaims & { lifetimeSeconds?: number }, number, string]>)(
      'refuses a licence %s',
      async (_name, { lifetimeSeconds, ...claims }, status, code) => {
        const poe = await issue(claims, lifetimeSeconds === undefined ? {} : { lifetimeSeconds });
        const body = expectProblem(await sign(poe), status, code);
        expect(auditOf(body['auditId'])).toMatchObject({ outcome: code });
      },
    );

    it('refuses a revoked licence', async () => {
      const poe = await issue({ license_id: 'lic-to-revoke' });
      licensing.revoke('lic-to-revoke');
      expectProblem(await sign(poe), 403, 'entitlement_denied');
    });

    it('refuses a PoE Licensing never issued', async () => {
      const rogue = await (await DevLicensing.create()).mintPoe(GOOD);
      issued.push(rogue);
      expectProblem(await sign(rogue), 403, 'entitlement_denied');
    });
  });

  describe('when Licensing misbehaves and nothing is cached', () => {
    it.each([
      ['a malformed answer', { kind: 'malformed', body: '{"active":true,"plan":"pro"}' }, '5'],
      ['a slow answer (timeout)', { kind: 'slow', delayMs: 1000 }, '5'],
      ['HTTP 500', { kind: 'status', status: 500 }, '5'],
      ['HTTP 503 with Retry-After', { kind: 'status', status: 503, retryAfter: '30' }, '30'],
    ] as const)(
      'answers %s with 503 upstream_unavailable and Retry-After, caching nothing',
      async (_n, fault, retry) => {
        const poe = await issue();
        licensing.failNext(fault);
        const response = await sign(poe);
        const body = expectProblem(response, 503, 'upstream_unavailable');
        expect(response.headers['retry-after']).toBe(retry);
        expect(auditOf(body['auditId'])).toMatchObject({ outcome: 'upstream_unavailable' });
        expect((await sign(poe)).statusCode).toBe(200);
        expect(licensing.callsFor(poe)).toBe(2);
      },
    );

    it('answers connection refused with 503 upstream_unavailable and Retry-After', async () => {
      const poe = await issue();
      await licensing.stop();
      const response = await sign(poe);
      expectProblem(response, 503, 'upstream_unavailable');
      expect(response.headers['retry-after']).toBe('5');
    });
  });

  describe('when Licensing is down but the decision is cached', () => {
    it('keeps signing until the cached decision expires, then answers 503', async () => {
      const poe = await issue();
      expect((await sign(poe)).statusCode).toBe(200);
      await licensing.stop();
      expect((await sign(poe)).statusCode).toBe(200);
      clock.advanceSeconds(CACHE_TTL);
      expectProblem(await sign(poe), 503, 'upstream_unavailable');
    });
  });

  describe('when time passes (controllable clock)', () => {
    it('asks Licensing again once cacheTtlSeconds have passed, not before', async () => {
      const poe = await issue();
      await sign(poe);
      clock.advanceSeconds(CACHE_TTL - 1);
      expect((await sign(poe)).statusCode).toBe(200);
      expect(licensing.callsFor(poe)).toBe(1);
      clock.advanceSeconds(1);
      expect((await sign(poe)).statusCode).toBe(200);
      expect(licensing.callsFor(poe)).toBe(2);
    });

    it('caches an active decision no longer than the licence lives, then denies and caches the denial', async () => {
      // The licence (8 s) ends before cacheTtlSeconds (10 s): exp - now bounds the entry. The clock
      // also runs in real time, so each step keeps seconds of margin for a loaded machine.
      const poe = await issue({}, { lifetimeSeconds: 8 });
      expect((await sign(poe)).statusCode).toBe(200);
      clock.advanceSeconds(4);
      expect((await sign(poe)).statusCode).toBe(200);
      expect(licensing.callsFor(poe)).toBe(1);
      clock.advanceSeconds(5);
      expectProblem(await sign(poe), 403, 'entitlement_denied');
      expect(licensing.callsFor(poe)).toBe(2);
      clock.advanceSeconds(NEGATIVE_TTL - 1);
      expectProblem(await sign(poe), 403, 'entitlement_denied');
      expect(licensing.callsFor(poe)).toBe(2);
    });

    it('keeps a denial for negativeCacheTtlSeconds, then asks again', async () => {
      const poe = await issue({ active: false });
      expectProblem(await sign(poe), 403, 'entitlement_denied');
      clock.advanceSeconds(NEGATIVE_TTL - 1);
      expectProblem(await sign(poe), 403, 'entitlement_denied');
      expect(licensing.callsFor(poe)).toBe(1);
      clock.advanceSeconds(1);
      expectProblem(await sign(poe), 403, 'entitlement_denied');
      expect(licensing.callsFor(poe)).toBe(2);
    });
  });
});
