import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { FakeAwsKms } from '@signer/testing';
import { Caller, startHarness, validBody, type Harness } from './harness';
import { useAwsCredentials } from './signing-fixtures';

jest.setTimeout(30_000);

const REDIS_URL = process.env['SIGNER_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('KMS quota shaping (signing.keys.<id>.maxRps)', () => {
  let aws: FakeAwsKms;
  let restoreEnv: () => void;
  beforeAll(async () => {
    aws = await FakeAwsKms.start();
    restoreEnv = useAwsCredentials(aws.credentials, aws.region);
  });
  afterAll(async () => {
    restoreEnv();
    await aws.close();
  });

  /** A Signer whose key `shaped` is an AWS key limited to `maxRps`, queueing at most `maxWaitMs`. */
  const startSigner = async (
    arn: string,
    limit: { maxRps: number; maxWaitMs: number },
    quotas: Record<string, unknown> = {},
  ) => {
    const harness = await startHarness({
      configure: (config) => {
        (config['signing']['keys'] as Record<string, unknown>)['shaped'] = {
          ref: `awskms://${arn}`,
          endpoint: aws.endpoint,
          ...limit,
        };
        Object.assign(config['quotas'], quotas);
      },
    });
    const caller = await Caller.create(harness);
    expect((await caller.sign(validBody(harness))).statusCode).toBe(200); // settles the DPoP nonce
    return { harness, caller };
  };
  const shapedBody = (harness: Harness) =>
    validBody(harness, { options: { signingMode: 'kms', keyId: 'shaped' } });
  const signCallsFor = (arn: string) => aws.signCalls().filter((c) => c.keyId === arn);

  describe('when requests exceed maxRps by more than the wait bound (one replica)', () => {
    it('signs within the rate and answers the excess 429 plan_throttled (limit kms) before calling KMS', async () => {
      const key = aws.createKey('ECC_NIST_P256');
      const { harness, caller } = await startSigner(key.arn, { maxRps: 0.05, maxWaitMs: 0 });
      try {
        const responses = await Promise.all(
          Array.from({ length: 5 }, () => caller.sign(shapedBody(harness))),
        );
        const statuses = responses.map((r) => r.statusCode).sort();
        expect(statuses).toEqual([200, 429, 429, 429, 429]);
        for (const refused of responses.filter((r) => r.statusCode === 429)) {
          expect(refused.json()).toMatchObject({ code: 'plan_throttled' });
          expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
          expect(harness.auditLines().find((l) => l['auditId'] === refused.json().auditId)).toMatchObject({
            outcome: 'plan_throttled',
          });
        }
        expect(signCallsFor(key.arn)).toHaveLength(1);
        const metrics = (await harness.app.inject({ method: 'GET', url: '/metrics' })).body;
        expect(metrics).toMatch(/signer_quota_throttled_total\{limit="kms"\} 4/);
      } finally {
        await harness.close();
      }
    });
  });

  describe('when the excess fits within the wait bound', () => {
    it('queues the requests and signs every one', async () => {
      const key = aws.createKey('ECC_NIST_P256');
      const { harness, caller } = await startSigner(key.arn, { maxRps: 20, maxWaitMs: 5000 });
      try {
        const responses = await Promise.all(
          Array.from({ length: 10 }, () => caller.sign(shapedBody(harness))),
        );
        expect(responses.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
        expect(signCallsFor(key.arn)).toHaveLength(10);
      } finally {
        await harness.close();
      }
    });
  });

  describe('when two replicas share Redis (quotas.store: redis)', () => {
    const prefix = `signer-test:${randomUUID()}:`;
    afterAll(async () => {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    });

    it('holds maxRps across both: one KMS call in the window, the rest 429', async () => {
      const key = aws.createKey('ECC_NIST_P256');
      const quotas = { store: 'redis', redisUrl: REDIS_URL, redisKeyPrefix: prefix };
      const replicas = [
        await startSigner(key.arn, { maxRps: 0.05, maxWaitMs: 0 }, quotas),
        await startSigner(key.arn, { maxRps: 0.05, maxWaitMs: 0 }, quotas),
      ];
      try {
        const responses = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            replicas[i % 2].caller.sign(shapedBody(replicas[i % 2].harness)),
          ),
        );
        expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 429, 429, 429, 429, 429]);
        expect(signCallsFor(key.arn)).toHaveLength(1);
      } finally {
        await Promise.all(replicas.map((r) => r.harness.close()));
      }
    });
  });
});
