import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DpopKey } from '@signer/client';
import {
  generateEmbeddedProfile,
  type DevAuthority,
  type DevLicensing,
  type EmbeddedProfile,
} from '@signer/dev';
import { freePort, privateSignerBundle, SignerProcess, type PrivateBundle } from '@signer/testing';
import Redis from 'ioredis';
import { parse, stringify } from 'yaml';
import { expectRefusal, httpRequest, SIGN_PATH, tinyLimits, type HttpAnswer } from './authority-harness';
import { newCaller, profileParties } from './harness';
import { deleteKeys } from './redis-harness';

jest.setTimeout(120_000);

const REDIS_URL = process.env['SIGNER_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** What callers use: the load balancer in front of both replicas (so `htu` is the same on both). */
const PUBLIC_URL = 'http://signer.replicas.test';

/**
 * Two Signer processes (the built service) on different ports sharing the real Redis
 * (`quotas.store: redis`, a key prefix of this run): DPoP `jti`s and nonces hold across replicas.
 */
describe('DPoP across two replicas sharing Redis', () => {
  const prefix = `signer-test:authority:${randomUUID()}:`;
  let service: PrivateBundle;
  let dir: string;
  let profile: EmbeddedProfile;
  let authority: DevAuthority;
  let licensing: DevLicensing;
  let a: SignerProcess;
  let b: SignerProcess;
  const replicas: SignerProcess[] = [];

  beforeAll(async () => {
    service = await privateSignerBundle('authority-replicas');
    dir = mkdtempSync(join(tmpdir(), 'signer-replicas-'));
    // Two processes on one profile: the state is per process (a file store has one writer).
    profile = await generateEmbeddedProfile(dir, { stateStore: 'memory' });
    const raw = parse(readFileSync(profile.configPath, 'utf8')) as Record<string, Record<string, unknown>>;
    raw['server'] = { ...raw['server'], publicBaseUrl: PUBLIC_URL };
    raw['quotas'] = { ...raw['quotas'], store: 'redis', redisUrl: REDIS_URL, redisKeyPrefix: prefix };
    writeFileSync(profile.configPath, stringify(raw));
    const portA = await freePort();
    let portB = await freePort();
    while (portB === portA) portB = await freePort();
    // allSettled: a replica that started is stopped in afterAll even when the other one failed.
    const started = await Promise.allSettled(
      [portA, portB].map((port, index) =>
        SignerProcess.start({
          bundle: service.main,
          port,
          auditFile: join(dir, `audit/replica-${index}.jsonl`),
          env: { SIGNER_CONFIG: profile.configPath },
        }),
      ),
    );
    for (const result of started) if (result.status === 'fulfilled') replicas.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    [a, b] = replicas;
    ({ authority, licensing } = await profileParties(profile));
  });

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    await deleteKeys(redis, prefix);
    redis.disconnect();
    service?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const caller = () => newCaller(authority, profile);
  const poe = (signatures: number) =>
    licensing.mintPoe({
      tenant: profile.tenant,
      installation: profile.installation,
      license_id: `lic-replicas-${randomUUID()}`,
      limits: tinyLimits(signatures),
    });
  const body = (value: string) => ({
    subject: [{ name: 'registry.example/app', digest: { sha256: 'ef'.repeat(32) } }],
    predicateType: 'https://stella-ops.org/attestations/sbom/1',
    predicate: { replicas: 2 },
    scannerImageDigest: profile.scannerImageDigest,
    poe: { format: 'jwt', value },
  });
  const headers = async (c: { key: DpopKey; token: string }, nonce?: string) => ({
    authorization: `DPoP ${c.token}`,
    dpop: await c.key.proof({
      method: 'POST',
      url: `${PUBLIC_URL}${SIGN_PATH}`,
      accessToken: c.token,
      nonce,
    }),
  });
  const post = (replica: SignerProcess, value: unknown, sent: Record<string, string>): Promise<HttpAnswer> =>
    httpRequest(`${replica.url}${SIGN_PATH}`, { body: value, headers: sent });
  /** The nonce dance against one replica: its `use_dpop_nonce` answer carries the nonce. */
  const nonceFrom = async (replica: SignerProcess) => {
    const first = await post(replica, body('no-poe-needed'), await headers(await caller()));
    expect(first.statusCode).toBe(401);
    return String(first.headers['dpop-nonce']);
  };

  describe('when replica A issued the nonce', () => {
    it('is accepted by replica B, and the other way round', async () => {
      const value = await poe(2);
      const one = await caller();
      expect((await post(b, body(value), await headers(one, await nonceFrom(a)))).statusCode).toBe(200);
      const two = await caller();
      expect((await post(a, body(value), await headers(two, await nonceFrom(b)))).statusCode).toBe(200);
    });
  });

  describe('when a proof accepted by replica A is replayed against replica B', () => {
    it('is refused with invalid_dpop_proof, audited by B, nothing signed or counted', async () => {
      const value = await poe(2);
      const sent = await headers(await caller(), await nonceFrom(a));
      expect((await post(a, body(value), sent)).statusCode).toBe(200);
      const signedOnB = b.auditLines().filter((r) => r['outcome'] === 'signed').length;

      const replayed = await post(b, body(value), sent);
      await b.logged(String((replayed.json() as { auditId?: string }).auditId));
      expectRefusal(b, replayed, {
        status: 401,
        code: 'invalid_dpop_proof',
        scheme: 'DPoP',
        reason: /replayed proof/,
      });
      expect(b.auditLines().filter((r) => r['outcome'] === 'signed')).toHaveLength(signedOnB);
      const fresh = await headers(await caller(), await nonceFrom(b));
      expect((await post(b, body(value), fresh)).statusCode).toBe(200);
    });
  });
});
