import { decodeJwt } from 'jose';
import { LoopbackServer, problem, type CannedAnswer, type Responder } from '../../test/loopback-server';
import { DpopKey } from '../dpop/dpop-key';
import { SignerProblemError } from './client-errors';
import { fetchSignerKeys } from './public-endpoints';
import type { RetryEvent } from './retry-policy';
import { SignerClient, type SignerClientOptions } from './signer-client';
import type { SignDsseRequest } from './wire-types';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SIGN_REQUEST: SignDsseRequest = {
  subject: [{ name: 'a.txt', digest: { sha256: 'ab'.repeat(32) } }],
  predicateType: 'https://stella-ops.org/attestations/sbom/1',
  predicate: {},
  scannerImageDigest: `sha256:${'cd'.repeat(32)}`,
  poe: { format: 'jwt', value: 'poe-value' },
};
const SIGNED: CannedAnswer = { status: 200, body: { auditId: 'audit-ok', bundle: {}, sigstoreBundle: {} } };

/** Answers from a script, one per request; the last one repeats. */
const script =
  (...answers: CannedAnswer[]): Responder =>
  (_request, index) =>
    answers[Math.min(index, answers.length - 1)];

describe('SignerClient retries', () => {
  let server: LoopbackServer;
  let key: DpopKey;
  let sleeps: number[];
  let events: RetryEvent[];

  beforeAll(async () => {
    key = await DpopKey.generate();
  });
  beforeEach(() => {
    sleeps = [];
    events = [];
  });
  afterEach(() => server.close());

  /** A client whose waits are recorded, not spent, on a pinned clock and a fixed jitter draw. */
  const client = (overrides: Partial<SignerClientOptions> = {}) =>
    new SignerClient({
      baseUrl: server.baseUrl,
      accessToken: 'op.tok.en',
      dpopKey: key,
      clock: { sleep: async (ms) => void sleeps.push(ms), now: () => NOW, random: () => 0.5 },
      onRetry: (event) => events.push(event),
      ...overrides,
    });
  const keysSent = () => server.requests.map((request) => request.headers['idempotency-key']);

  describe('when a sign is answered 503 with Retry-After in seconds, then signed', () => {
    it('waits that long and resends with the same Idempotency-Key and a fresh proof', async () => {
      server = await LoopbackServer.start(
        script(problem(503, 'upstream_unavailable', 'a-1', { 'retry-after': '2' }), SIGNED),
      );
      await expect(client().signDsse(SIGN_REQUEST)).resolves.toMatchObject({ auditId: 'audit-ok' });

      expect(sleeps).toEqual([2000]);
      const [first, second] = keysSent();
      expect(first).toMatch(UUID);
      expect(second).toBe(first);
      const jtis = server.requests.map((request) => decodeJwt(String(request.headers['dpop']))['jti']);
      expect(new Set(jtis).size).toBe(2);
      expect(events).toEqual([{ attempt: 1, status: 503, code: 'upstream_unavailable', delayMs: 2000 }]);
    });
  });

  describe('when a 429 names an HTTP-date', () => {
    it('waits until that date on the injected clock', async () => {
      const date = new Date(NOW + 3000).toUTCString();
      server = await LoopbackServer.start(
        script(problem(429, 'plan_throttled', 'a', { 'retry-after': date }), SIGNED),
      );
      await client().signDsse(SIGN_REQUEST);

      expect(sleeps).toEqual([3000]);
      expect(server.requests).toHaveLength(2);
    });
  });

  describe('when every answer is 503 without Retry-After', () => {
    it('backs off with jitter, doubling the bound, and gives up after maxAttempts', async () => {
      server = await LoopbackServer.start(script(problem(503, 'upstream_unavailable', 'a-503')));
      const error = await client({ retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 600 } })
        .signDsse(SIGN_REQUEST)
        .catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(SignerProblemError);
      expect(error).toMatchObject({ code: 'upstream_unavailable', status: 503, attempts: 5 });
      // random() = 0.5 of the bound: 100, 200, 400, then 600 (the cap) instead of 800.
      expect(sleeps).toEqual([50, 100, 200, 300]);
      expect(new Set(keysSent()).size).toBe(1);
    });
  });

  describe('when Retry-After does not fit in the remaining wait budget', () => {
    it('stops at once with the refusal and its retryAfterSeconds', async () => {
      server = await LoopbackServer.start(
        script(problem(429, 'plan_throttled', 'a', { 'retry-after': '3600' })),
      );
      await expect(client().signDsse(SIGN_REQUEST)).rejects.toMatchObject({
        code: 'plan_throttled',
        retryAfterSeconds: 3600,
        attempts: 1,
      });
      expect(sleeps).toEqual([]);
    });

    it('spends the budget and no more', async () => {
      server = await LoopbackServer.start(
        script(problem(429, 'plan_throttled', 'a', { 'retry-after': '10' })),
      );
      await expect(
        client({ retry: { maxAttempts: 10, maxTotalWaitMs: 25_000 } }).signDsse(SIGN_REQUEST),
      ).rejects.toMatchObject({ code: 'plan_throttled', attempts: 3 });
      expect(sleeps).toEqual([10_000, 10_000]);
    });
  });

  describe('when the refusal is final', () => {
    it.each([
      [400, 'invalid_request'],
      [403, 'entitlement_denied'],
      [409, 'idempotency_conflict'],
    ])('does not retry %i %s', async (status, code) => {
      server = await LoopbackServer.start(script(problem(status, code)));
      await expect(client().signDsse(SIGN_REQUEST)).rejects.toMatchObject({ status, code, attempts: 1 });
      expect(sleeps).toEqual([]);
    });
  });

  describe('when a nonce challenge follows a retry', () => {
    it('answers it with the new nonce outside the budget, keeping the key', async () => {
      server = await LoopbackServer.start(
        script(
          problem(503, 'upstream_unavailable', 'a', { 'retry-after': '1' }),
          problem(401, 'use_dpop_nonce', 'b', { 'dpop-nonce': 'n-2' }),
          SIGNED,
        ),
      );
      await client({ retry: { maxAttempts: 2 } }).signDsse(SIGN_REQUEST);

      expect(server.requests).toHaveLength(3);
      expect(decodeJwt(String(server.requests[2].headers['dpop']))['nonce']).toBe('n-2');
      expect(new Set(keysSent()).size).toBe(1);
      expect(sleeps).toEqual([1000]);
    });
  });

  describe('when the caller names the Idempotency-Key', () => {
    it('sends that key on every attempt', async () => {
      server = await LoopbackServer.start(
        script(problem(429, 'plan_throttled', 'a', { 'retry-after': '1' }), SIGNED),
      );
      await client().signDsse(SIGN_REQUEST, { idempotencyKey: 'build-42' });

      expect(keysSent()).toEqual(['build-42', 'build-42']);
    });
  });

  describe('when two sign calls are made', () => {
    it('gives each its own key', async () => {
      server = await LoopbackServer.start(script(SIGNED));
      const signer = client();
      await signer.signDsse(SIGN_REQUEST);
      await signer.signDsse(SIGN_REQUEST);

      const [first, second] = keysSent();
      expect(first).toMatch(UUID);
      expect(second).toMatch(UUID);
      expect(second).not.toBe(first);
    });
  });

  describe('when retries are off', () => {
    it('sends once and adds no Idempotency-Key', async () => {
      server = await LoopbackServer.start(
        script(problem(503, 'upstream_unavailable', 'a', { 'retry-after': '1' })),
      );
      await expect(client({ retry: false }).signDsse(SIGN_REQUEST)).rejects.toMatchObject({ attempts: 1 });

      expect(keysSent()).toEqual([undefined]);
      expect(sleeps).toEqual([]);
    });
  });

  describe('when a read is answered 503', () => {
    it('retries verifyReferrers and keys() the same way', async () => {
      // Every other request is refused: the first of each call.
      server = await LoopbackServer.start((_request, index) =>
        index % 2 === 0
          ? problem(503, 'upstream_unavailable', 'a', { 'retry-after': '1' })
          : { status: 200, body: { digest: 'd', trusted: true, keys: [] } },
      );
      await client().verifyReferrers(`sha256:${'ef'.repeat(32)}`);
      await expect(
        fetchSignerKeys({
          baseUrl: server.baseUrl,
          clock: { sleep: async (ms) => void sleeps.push(ms) },
        }),
      ).resolves.toMatchObject({ keys: [] });

      expect(server.requests.map((request) => request.url.split('?')[0])).toEqual([
        '/api/v1/signer/verify/referrers',
        '/api/v1/signer/verify/referrers',
        '/api/v1/signer/keys',
        '/api/v1/signer/keys',
      ]);
      expect(sleeps).toEqual([1000, 1000]);
    });
  });
});
