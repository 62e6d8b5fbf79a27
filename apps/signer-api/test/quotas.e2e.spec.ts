import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignerError, type AuditRecord, type AuditSink } from '@signer/core';
import { DEV_INSTALLATION, DEV_TENANT } from '@signer/dev';
import type { LightMyRequestResponse } from 'fastify';
import { ManualClock } from '@signer/testing';
import { Caller, SIGN_PATH, startHarness, validBody, type Harness } from './harness';
import { startRedisHarness, type RedisHarness } from './redis-harness';

function expectThrottled(response: LightMyRequestResponse, limit: string): Record<string, unknown> {
  expect(response.statusCode).toBe(429);
  expect(response.headers['content-type']).toContain('application/problem+json');
  const body = response.json();
  expect(body).toMatchObject({ code: 'plan_throttled', status: 429 });
  expect(body.detail).toContain(limit);
  return body;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** Lets a test hold the first `signed` record (slot held, request in flight) or fail it. */
class ControlledAudit implements AuditSink {
  hold: { entered: ReturnType<typeof deferred>; release: ReturnType<typeof deferred> } | undefined;
  failNextSigned = false;
  constructor(private readonly real: AuditSink) {}
  async append(record: AuditRecord): Promise<void> {
    if (record.outcome === 'signed' && this.failNextSigned) {
      this.failNextSigned = false;
      throw new SignerError('upstream_unavailable', 'audit store down (test)', { upstream: 'audit' });
    }
    const hold = record.outcome === 'signed' ? this.hold : undefined;
    if (hold) {
      this.hold = undefined;
      hold.entered.resolve();
      await hold.release.promise;
    }
    await this.real.append(record);
  }
  close(): Promise<void> {
    return this.real.close();
  }
}

/** A PoE of a licence of its own, so what one test consumes no other test shares. */
function poeOfItsOwn(
  harness: Harness,
  limits: Record<string, number>,
  claims: Record<string, unknown> = {},
): Promise<string> {
  return harness.licensing.mintPoe({
    tenant: DEV_TENANT,
    installation: DEV_INSTALLATION,
    license_id: `lic-${randomUUID()}`,
    valid_release_year: 2030,
    limits,
    ...claims,
  });
}

describe('plan quotas end to end', () => {
  describe('with the memory store', () => {
    const clock = new ManualClock();
    let audit: ControlledAudit;
    let harness: Harness;
    let caller: Caller;

    const poeWith = (limits: Record<string, number>, claims: Record<string, unknown> = {}) =>
      poeOfItsOwn(harness, limits, claims);
    const sign = (poe: string, who = caller) =>
      who.sign(validBody(harness, { poe: { format: 'jwt', value: poe } }));

    beforeAll(async () => {
      harness = await startHarness({ clock, audit: (real) => (audit = new ControlledAudit(real)) });
      caller = await Caller.create(harness);
    });
    afterAll(() => harness.close());

    describe('when the QPS bucket runs dry', () => {
      it('reports the true qpsRemaining, then refuses with an honest Retry-After until a token is back', async () => {
        const poe = await poeWith({ qps: 1, burst: 3 });
        const remaining: number[] = [];
        for (let i = 0; i < 3; i += 1) remaining.push((await sign(poe)).json().policy.qpsRemaining);
        expect(remaining).toEqual([2, 1, 0]);
        const refused = await sign(poe);
        const body = expectThrottled(refused, 'qps');
        expect(refused.headers['retry-after']).toBe('1');
        expect(harness.auditLines().find((r) => r['auditId'] === body['auditId'])).toMatchObject({
          outcome: 'plan_throttled',
          gates: { quota: 'plan_throttled' },
        });
        clock.advanceSeconds(1);
        expect((await sign(poe)).json().policy.qpsRemaining).toBe(0);
      });
    });

    describe('when the daily cap is reached', () => {
      it('refuses with Retry-After at the next UTC midnight', async () => {
        const poe = await poeWith({ dailyCap: 1 });
        expect((await sign(poe)).statusCode).toBe(200);
        const refused = await sign(poe);
        expectThrottled(refused, 'daily');
        const now = clock.now().getTime();
        const midnight = Math.ceil((Math.floor(now / 86_400_000 + 1) * 86_400_000 - now) / 1000);
        expect(Math.abs(Number(refused.headers['retry-after']) - midnight)).toBeLessThanOrEqual(1);
      });
    });

    describe('when two tenants hold PoEs with the same licence id', () => {
      it('never shares their counters', async () => {
        const licenseId = `lic-shared-${randomUUID()}`;
        const mine = await poeWith({ dailyCap: 1 }, { license_id: licenseId });
        const theirs = await poeWith(
          { dailyCap: 1 },
          { license_id: licenseId, tenant: 'tenant-other', installation: undefined },
        );
        const stranger = await Caller.create(harness, { tenant: 'tenant-other', installation: undefined });
        expect((await sign(mine)).statusCode).toBe(200);
        expectThrottled(await sign(mine), 'daily');
        expect((await sign(theirs, stranger)).statusCode).toBe(200);
      });
    });

    describe('when signing fails upstream after the slot was taken', () => {
      it('releases the slot and gives the daily unit back', async () => {
        const poe = await poeWith({ concurrency: 1, dailyCap: 1 });
        audit.failNextSigned = true;
        const failed = await sign(poe);
        expect(failed.statusCode).toBe(503);
        expect(failed.json().code).toBe('upstream_unavailable');
        expect((await sign(poe)).statusCode).toBe(200);
        expectThrottled(await sign(poe), 'daily');
      });
    });

    describe('when the client aborts while its signing is in flight', () => {
      it('holds the slot only until the signing ends, then frees it', async () => {
        const poe = await poeWith({ concurrency: 1 });
        expect((await sign(poe)).statusCode).toBe(200); // also fetches a DPoP nonce
        await harness.app.listen({ port: 0, host: '127.0.0.1' });
        const { port } = harness.app.getHttpServer().address() as AddressInfo;
        const hold = { entered: deferred(), release: deferred() };
        audit.hold = hold;

        const body = JSON.stringify(validBody(harness, { poe: { format: 'jwt', value: poe } }));
        const aborted = httpRequest({
          host: '127.0.0.1',
          port,
          path: SIGN_PATH,
          method: 'POST',
          headers: {
            authorization: `DPoP ${caller.token}`,
            dpop: await caller.proof('POST', SIGN_PATH),
            'content-type': 'application/json',
          },
        });
        const clientSaw = new Promise<string>((resolve) => {
          aborted.on('response', (response) => resolve(`status ${response.statusCode}`));
          aborted.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
          aborted.on('close', () => resolve('closed'));
        });
        aborted.end(body);
        await hold.entered.promise;
        aborted.destroy();
        expect(await clientSaw).not.toMatch(/^status/);

        // The aborted request still holds the one slot while it is being signed and audited.
        expectThrottled(await sign(poe), 'concurrency');
        hold.release.resolve();
        let status = 0;
        for (let attempt = 0; attempt < 50 && status !== 200; attempt += 1) {
          status = (await sign(poe)).statusCode;
          if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(status).toBe(200);
        const signed = harness.auditLines().filter((r) => r['outcome'] === 'signed' && r['licenseId']);
        expect(signed.length).toBeGreaterThanOrEqual(3);
      });
    });
  });

  describe('with the Redis store', () => {
    let redisHarness: RedisHarness;
    let harness: Harness;
    let caller: Caller;

    const poeWith = (limits: Record<string, number>) => poeOfItsOwn(harness, limits);
    const sign = (poe: string) => caller.sign(validBody(harness, { poe: { format: 'jwt', value: poe } }));

    beforeAll(async () => {
      redisHarness = await startRedisHarness();
      harness = redisHarness.harness;
      caller = await Caller.create(harness);
    });
    afterAll(() => redisHarness.close());

    describe('when the bucket runs dry', () => {
      it('counts down qpsRemaining in Redis and refuses with Retry-After', async () => {
        const poe = await poeWith({ qps: 0.5, burst: 2 });
        expect((await sign(poe)).json().policy.qpsRemaining).toBe(1);
        expect((await sign(poe)).json().policy.qpsRemaining).toBe(0);
        const refused = await sign(poe);
        expectThrottled(refused, 'qps');
        expect(refused.headers['retry-after']).toBe('2');
        const state = await redisHarness.redis.keys(`${redisHarness.prefix}quota:*:state`);
        expect(state.length).toBeGreaterThanOrEqual(1);
      });
    });

    describe('when Redis becomes unreachable at the quota decision', () => {
      it('answers 503 upstream_unavailable and never 200 until Redis is back', async () => {
        const poe = await poeWith({ qps: 100, burst: 100 });
        expect((await sign(poe)).statusCode).toBe(200);

        // Cut the link the moment the quota script is sent: it never reaches Redis.
        redisHarness.proxy.cutWhen((command) => command.includes(`${redisHarness.prefix}quota:`));
        const cut = await sign(poe);
        expect(cut.statusCode).toBe(503);
        expect(cut.headers['retry-after']).toBe('1');
        const body = cut.json();
        expect(body.code).toBe('upstream_unavailable');
        expect(harness.auditLines().find((r) => r['auditId'] === body.auditId)).toMatchObject({
          outcome: 'upstream_unavailable',
          gates: { poe: 'pass', release: 'pass', quota: 'upstream_unavailable' },
        });

        const during = await Promise.all(Array.from({ length: 5 }, () => sign(poe)));
        expect(during.map((r) => r.statusCode)).toEqual(Array(5).fill(503));
        expect(during.every((r) => r.json().code === 'upstream_unavailable')).toBe(true);

        redisHarness.proxy.restore();
        let status = 0;
        for (let attempt = 0; attempt < 60 && status !== 200; attempt += 1) {
          status = (await sign(poe)).statusCode;
          if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(status).toBe(200);
      });
    });
  });
});
