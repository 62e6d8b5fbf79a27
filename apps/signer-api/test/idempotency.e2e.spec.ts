import { Caller, startHarness, validBody, type Harness } from './harness';

describe('Idempotency-Key on POST /sign/dsse', () => {
  let harness: Harness;
  let caller: Caller;

  beforeAll(async () => {
    harness = await startHarness();
    caller = await Caller.create(harness);
  });
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
