import { Caller, startWithCaller, validBody, type Harness } from './harness';
import { startRedisHarness, type RedisHarness } from './redis-harness';

/** A body whose bundle is large: the predicate carries `kib` KiB of caller text. */
const largeBody = (harness: Harness, n: number, kib = 32) =>
  validBody(harness, { predicate: { n, report: 'r'.repeat(kib * 1024) } });

describe('Idempotency-Key on POST /sign/dsse', () => {
  let harness: Harness;
  let caller: Caller;

  beforeAll(async () => ({ harness, caller } = await startWithCaller()));
  afterAll(() => harness.close());

  const signedRecords = () =>
    harness.auditLines().filter((r) => r['outcome'] === 'signed' && r['replayOf'] === undefined);

  describe('when a retry repeats the key and the body', () => {
    it('returns the same bundle, signs once, and audits the replay', async () => {
      const before = signedRecords().length;
      const first = await caller.sign(validBody(harness), { 'idempotency-key': 'retry-1' });
      const second = await caller.sign(validBody(harness), { 'idempotency-key': 'retry-1' });
      expect(first.statusCode).toBe(200);
      expect(second.statusCode).toBe(200);
      expect(second.body).toBe(first.body);
      expect(signedRecords().length).toBe(before + 1);
      expect(harness.auditLines().some((r) => r['replayOf'] === first.json().auditId)).toBe(true);
    });
  });

  describe('when the same key comes with another body', () => {
    it('answers 409 idempotency_conflict', async () => {
      await caller.sign(validBody(harness), { 'idempotency-key': 'retry-2' });
      const conflict = await caller.sign(validBody(harness, { predicate: { other: true } }), {
        'idempotency-key': 'retry-2',
      });
      expect(conflict.statusCode).toBe(409);
      expect(conflict.json()).toMatchObject({ code: 'idempotency_conflict' });
    });
  });

  describe('when the first answer was a final refusal', () => {
    it('replays the refusal with its original auditId', async () => {
      const body = validBody(harness, { predicateType: 'https://not.allowed/1' });
      const first = await caller.sign(body, { 'idempotency-key': 'retry-3' });
      const second = await caller.sign(body, { 'idempotency-key': 'retry-3' });
      expect(first.statusCode).toBe(422);
      expect(second.statusCode).toBe(422);
      expect(second.json().auditId).toBe(first.json().auditId);
    });
  });

  describe('when duplicates arrive concurrently', () => {
    it('signs once; every duplicate gets the same bundle', async () => {
      const before = signedRecords().length;
      await caller.sign(validBody(harness)); // learn a nonce first so all duplicates carry one
      const responses = await Promise.all(
        Array.from({ length: 5 }, () => caller.sign(validBody(harness), { 'idempotency-key': 'burst-1' })),
      );
      expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
      expect(new Set(responses.map((r) => r.json().bundle.dsse.signatures[0].sig)).size).toBe(1);
      expect(signedRecords().length).toBe(before + 2);
    });
  });

  describe('when another caller of the same tenant reuses the key', () => {
    it('is a different record: scoped to tenant and caller', async () => {
      const other = await Caller.create(harness, { subject: 'svc-export-center' });
      const mine = await caller.sign(validBody(harness), { 'idempotency-key': 'shared-name' });
      const theirs = await other.sign(validBody(harness, { predicate: { theirs: 1 } }), {
        'idempotency-key': 'shared-name',
      });
      expect(mine.statusCode).toBe(200);
      expect(theirs.statusCode).toBe(200);
      expect(theirs.json().auditId).not.toBe(mine.json().auditId);
    });
  });

  describe('when the plan allows one request per second', () => {
    it('counts the signature once: a retry is replayed, not throttled', async () => {
      const poe = await harness.licensing.mintPoe({
        tenant: harness.profile.tenant,
        installation: harness.profile.installation,
        license_id: 'lic-idem-qps',
        limits: { qps: 1, burst: 1 },
      });
      const body = validBody(harness, { poe: { format: 'jwt', value: poe } });
      expect((await caller.sign(body, { 'idempotency-key': 'qps-1' })).statusCode).toBe(200);
      expect((await caller.sign(body, { 'idempotency-key': 'qps-1' })).statusCode).toBe(200);
      expect((await caller.sign(body, { 'idempotency-key': 'qps-2' })).statusCode).toBe(429);
    });
  });

  describe('when the key is malformed', () => {
    it('refuses it with 400', async () => {
      const response = await caller.sign(validBody(harness), { 'idempotency-key': 'x'.repeat(129) });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'invalid_request' });
    });
  });
});

describe('Idempotency-Key records under a byte budget (memory store)', () => {
  let harness: Harness;
  let caller: Caller;

  beforeAll(async () => {
    ({ harness, caller } = await startWithCaller({
      configure: (config) => void (config['idempotency'] = { maxBytesPerTenant: 150_000 }),
    }));
  });
  afterAll(() => harness.close());

  describe("when one tenant's large answers under fresh keys fill its budget", () => {
    it('refuses its next new key with 429 and Retry-After, still replays, and leaves others signing', async () => {
      const answered = [];
      let refused;
      for (let n = 0; n < 10 && refused === undefined; n += 1) {
        const response = await caller.sign(largeBody(harness, n), { 'idempotency-key': `large-${n}` });
        if (response.statusCode === 200) answered.push(response);
        else refused = response;
      }
      expect(answered.length).toBeGreaterThanOrEqual(1);
      expect(refused?.statusCode).toBe(429);
      expect(refused?.json()).toMatchObject({ code: 'plan_throttled' });
      expect(refused?.json().detail).toContain('idempotency');
      expect(refused?.json().auditId).toEqual(expect.any(String));
      expect(Number(refused?.headers['retry-after'])).toBeGreaterThan(3500); // minRetentionSeconds 3600

      const replay = await caller.sign(largeBody(harness, 0), { 'idempotency-key': 'large-0' });
      expect(replay.statusCode).toBe(200);
      expect(replay.body).toBe(answered[0].body);
      expect((await caller.sign(largeBody(harness, 99))).statusCode).toBe(200); // no key: nothing stored

      const poe = await harness.licensing.mintPoe({
        tenant: 'tenant-other',
        installation: harness.profile.installation,
        license_id: 'lic-other',
      });
      const other = await Caller.create(harness, { tenant: 'tenant-other' });
      const theirs = await other.sign(validBody(harness, { poe: { format: 'jwt', value: poe } }), {
        'idempotency-key': 'large-0',
      });
      expect(theirs.statusCode).toBe(200);
    });
  });
});

describe('Idempotency-Key claims on Redis when the completion write is lost', () => {
  let redisHarness: RedisHarness;
  let harness: Harness;
  let caller: Caller;

  beforeAll(async () => {
    redisHarness = await startRedisHarness({ env: { SIGNER__IDEMPOTENCY__LEASESECONDS: '1' } });
    harness = redisHarness.harness;
    caller = await Caller.create(harness);
  });
  afterAll(() => redisHarness.close());

  /** Signs without a key until Redis answers again (the client reconnects within about 1 s). */
  const untilRedisAnswers = async () => {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      if ((await caller.sign(validBody(harness))).statusCode === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('expected Redis back within 5 s');
  };

  describe('when the record of a signed answer cannot be written (claim left pending)', () => {
    it('answers the retry after the lease (signing again), not 503 for a day', async () => {
      await untilRedisAnswers(); // learn a DPoP nonce first
      // The completion script carries the answer's JSON: cut Redis the moment it is sent.
      redisHarness.proxy.cutWhen((command) => command.includes('"outcome":'));
      const first = await caller.sign(validBody(harness), { 'idempotency-key': 'lost-1' });
      expect(first.statusCode).toBe(200); // the signature stands; the record write failed
      redisHarness.proxy.restore();
      await untilRedisAnswers();
      await new Promise((resolve) => setTimeout(resolve, 1000)); // the 1 s lease ends

      const started = Date.now();
      const retry = await caller.sign(validBody(harness), { 'idempotency-key': 'lost-1' });
      expect(retry.statusCode).toBe(200);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(retry.json().auditId).not.toBe(first.json().auditId);
      const again = await caller.sign(validBody(harness), { 'idempotency-key': 'lost-1' });
      expect(again.body).toBe(retry.body); // recorded this time: replayed
    });
  });
});
