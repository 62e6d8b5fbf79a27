import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DpopKey } from '@signer/client';
import type { Clock, PresentedCredentials, VerifiedOpTok } from '@signer/core';
import { DpopProofVerifier } from '@signer/infra-authority';
import { RedisConnection, RedisNonceStore, RedisReplayCache } from '@signer/infra-store';
import { ManualClock } from '@signer/testing';

const REDIS_URL = process.env['SIGNER_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const HTU = 'https://signer.replicas.test/api/v1/signer/sign/dsse';
const OPTOK = 'header.payload.signature';
/** The allowed skew: small, so the window a replay had before the fix is seconds, not minutes. */
const SKEW = 2;
const T = 1_900_000_000;

/**
 * Two replicas (two verifiers, two Redis connections) sharing the real Redis replay cache, with
 * clocks `SKEW` seconds apart — as far apart as the allowed skew lets them be (docs/authority.md).
 */
describe('DPoP replay across replicas with skewed clocks (real Redis)', () => {
  const prefix = `signer-test:dpop-skew:${randomUUID()}:`;
  const connections: RedisConnection[] = [];
  let key: DpopKey;
  let token: VerifiedOpTok;

  /** A replica; `scope` separates the keys of one test from another's. */
  const replica = (clock: Clock, scope: string) => {
    const connection = new RedisConnection({ url: REDIS_URL, keyPrefix: `${prefix}${scope}:` });
    connections.push(connection);
    return {
      connection,
      verifier: new DpopProofVerifier({
        algorithms: ['ES256'],
        clockSkewSeconds: SKEW,
        nonce: 'optional',
        nonces: new RedisNonceStore({ connection, ttlSeconds: 60 }),
        replay: new RedisReplayCache(connection),
        clock,
      }),
    };
  };
  const presented = (proof: string): PresentedCredentials => ({
    scheme: 'DPoP',
    token: OPTOK,
    dpopProof: proof,
    method: 'POST',
    htu: HTU,
  });

  beforeAll(async () => {
    key = await DpopKey.generate();
    token = {
      subject: 'svc-scanner-web',
      tenant: 'tenant-a',
      scopes: ['signer.sign'],
      expiresAt: T + 300,
      confirmation: { jkt: key.thumbprint },
      tokenHash: createHash('sha256').update(OPTOK).digest('base64url'),
    };
  });
  afterAll(async () => {
    const [first] = connections;
    const keys = await first.client.keys(`${prefix}*`);
    if (keys.length > 0) await first.client.del(...keys);
    await Promise.all(connections.map((connection) => connection.close()));
  });

  describe('when replica A (clock ahead) accepts a proof and replica B (clock behind by the skew) sees it later', () => {
    it('refuses it on B after the expiry A used to set (iat + skew + 1 on A), while B would still accept its iat', async () => {
      const clockA = new ManualClock(T * 1000);
      const clockB = new ManualClock((T - SKEW) * 1000);
      const a = replica(clockA, 'skewed');
      const b = replica(clockB, 'skewed');
      await Promise.all([a.connection.connect(), b.connection.connect()]);

      const proof = await key.proof({
        method: 'POST',
        url: HTU,
        accessToken: OPTOK,
        iat: T,
        jti: randomUUID(),
      });
      await expect(a.verifier.verify(token, presented(proof))).resolves.toBe(key.thumbprint);
      await expect(b.verifier.verify(token, presented(proof))).rejects.toMatchObject({
        code: 'invalid_dpop_proof',
        message: expect.stringMatching(/replayed proof/),
      });

      // Before the fix A's entry lived iat + skew + 1 − now = 3 s. Both clocks move with real time.
      const waitedMs = (SKEW + 1) * 1000 + 800;
      await sleep(waitedMs);
      clockA.advanceMs(waitedMs);
      clockB.advanceMs(waitedMs);
      // B's clock reads T + 1.8: its iat check alone would accept the proof (|now − iat| ≤ 2).
      expect(Math.abs(clockB.now().getTime() / 1000 - T)).toBeLessThanOrEqual(SKEW);

      await expect(b.verifier.verify(token, presented(proof))).rejects.toMatchObject({
        code: 'invalid_dpop_proof',
        message: expect.stringMatching(/replayed proof/),
      });
      // A fresh proof from the same key is still accepted by B: only the replay is refused.
      const fresh = await key.proof({
        method: 'POST',
        url: HTU,
        accessToken: OPTOK,
        iat: Math.floor(clockB.now().getTime() / 1000),
        jti: randomUUID(),
      });
      await expect(b.verifier.verify(token, presented(fresh))).resolves.toBe(key.thumbprint);
    });

    it('keeps the entry until iat + 2 × skew + 5 s on the accepting clock, in Redis', async () => {
      const clockA = new ManualClock(T * 1000);
      const a = replica(clockA, 'ttl');
      await a.connection.connect();
      const jti = randomUUID();
      const proof = await key.proof({ method: 'POST', url: HTU, accessToken: OPTOK, iat: T + SKEW, jti });
      await a.verifier.verify(token, presented(proof));
      const [stored, ...others] = await a.connection.client.keys(`${prefix}ttl:*`);
      expect(others).toHaveLength(0);
      // iat is SKEW ahead of A's clock: SKEW + 2 × SKEW + 5.
      await expect(a.connection.client.ttl(stored)).resolves.toBe(3 * SKEW + 5);
    });
  });
});
