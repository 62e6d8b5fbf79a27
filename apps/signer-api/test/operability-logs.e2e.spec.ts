import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Caller, SIGN_PATH, startHarness, validBody, type Harness } from './harness';
import { logRecords, sample, SIGN_GATES } from './operability-harness';

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./;

/** Wraps a caller so every DPoP proof it sends is remembered as a secret. */
function recordProofs(caller: Caller, secrets: string[]): Caller {
  const proof = caller.proof.bind(caller);
  caller.proof = async (...args: Parameters<Caller['proof']>) => {
    const value = await proof(...args);
    secrets.push(value);
    return value;
  };
  return caller;
}

/**
 * One full run — signatures, a verification, refusals at every gate, a throttled licence — then
 * every log line and the metrics are checked: no secret anywhere, one access line per request with
 * correlation id, tenant, outcome and latency, and the contract's counters moved.
 */
describe('logs and metrics over a full e2e run', () => {
  let harness: Harness;
  const secrets: string[] = [];
  let before: string;
  let after: string;
  const statuses: Record<string, number> = {};

  beforeAll(async () => {
    harness = await startHarness();
    const dir = harness.profile.dir;
    const privateD = (file: string) => (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { d: string }).d;
    const pem = readFileSync(join(dir, 'signing/default.pem'), 'utf8');
    secrets.push(
      harness.poe,
      privateD('authority/private.jwk.json'),
      privateD('licensing/private.jwk.json'),
      ...pem.split('\n').filter((line) => line.length > 0 && !line.startsWith('-----')),
    );
    before = (await harness.app.inject({ method: 'GET', url: '/metrics' })).body;

    const caller = recordProofs(await Caller.create(harness), secrets);
    const reader = recordProofs(await Caller.create(harness, { scope: 'signer.read' }), secrets);
    const stranger = recordProofs(await Caller.create(harness, { tenant: 'tenant-other' }), secrets);
    secrets.push(caller.token, reader.token, stranger.token);
    const revoked = await harness.licensing.mintPoe({
      tenant: harness.profile.tenant,
      installation: harness.profile.installation,
      revoked: true,
    });
    const tiny = await harness.licensing.mintPoe({
      tenant: harness.profile.tenant,
      installation: harness.profile.installation,
      license_id: 'lic-ops-tiny',
      limits: { qps: 1, burst: 1 },
    });
    secrets.push(revoked, tiny);
    const withPoe = (poe: string) => validBody(harness, { poe: { format: 'jwt', value: poe } });

    const run: Array<[string, () => ReturnType<Caller['sign']>]> = [
      ['signed', () => caller.sign(validBody(harness), { 'x-correlation-id': 'ops-corr-1' })],
      ['signed again', () => caller.sign(validBody(harness))],
      [
        'checked',
        () =>
          caller.send('GET', `/api/v1/signer/verify/referrers?digest=${harness.profile.scannerImageDigest}`),
      ],
      ['no token', () => harness.app.inject({ method: 'POST', url: SIGN_PATH, payload: validBody(harness) })],
      [
        'bad json',
        () =>
          harness.app.inject({
            method: 'POST',
            url: SIGN_PATH,
            payload: '{"subject"',
            headers: { 'content-type': 'application/json' },
          }),
      ],
      [
        'bad proof',
        () =>
          harness.app.inject({
            method: 'POST',
            url: SIGN_PATH,
            payload: validBody(harness),
            headers: { authorization: `DPoP ${caller.token}`, dpop: 'not-a-proof' },
          }),
      ],
      ['scope', () => reader.sign(validBody(harness))],
      ['tenant', () => stranger.sign(validBody(harness))],
      ['revoked', () => caller.sign(withPoe(revoked))],
      [
        'untrusted',
        () => caller.sign(validBody(harness, { scannerImageDigest: `sha256:${'0'.repeat(64)}` })),
      ],
      ['predicate', () => caller.sign(validBody(harness, { predicateType: 'https://example.invalid/p' }))],
      ['tiny 1', () => caller.sign(withPoe(tiny))],
      ['tiny 2', () => caller.sign(withPoe(tiny))],
    ];
    for (const [name, send] of run) statuses[name] = (await send()).statusCode;
    after = (await harness.app.inject({ method: 'GET', url: '/metrics' })).body;
  }, 60_000);

  afterAll(async () => {
    await harness.close();
  });

  it('ran the happy path and a refusal at every gate', () => {
    expect(statuses).toEqual({
      signed: 200,
      'signed again': 200,
      checked: 200,
      'no token': 401,
      'bad json': 400,
      'bad proof': 401,
      scope: 403,
      tenant: 403,
      revoked: 403,
      untrusted: 403,
      predicate: 422,
      'tiny 1': 200,
      'tiny 2': 429,
    });
  });

  describe('when every log line is searched', () => {
    it('finds no token, proof, PoE or private key material', () => {
      expect(harness.logs.lines.length).toBeGreaterThan(20);
      for (const line of harness.logs.lines) {
        for (const secret of secrets) expect(line).not.toContain(secret);
        expect(line).not.toMatch(JWT);
        expect(line).not.toContain('PRIVATE KEY');
      }
    });
  });

  describe('when the access lines are read', () => {
    const accessLines = () => logRecords(harness).filter((line) => line['msg'] === 'request completed');

    it('writes one per request with correlation id, outcome code and latency', () => {
      const lines = accessLines().filter((line) => line['route'] !== '/metrics');
      expect(lines.length).toBeGreaterThanOrEqual(13);
      for (const line of lines) {
        expect(line).toMatchObject({
          correlationId: expect.any(String),
          outcome: expect.any(String),
          status: expect.any(Number),
          latencyMs: expect.any(Number),
        });
      }
      // The caller's first attempt is the nonce dance (use_dpop_nonce), sent with the same id.
      const echoed = lines.filter((line) => line['correlationId'] === 'ops-corr-1');
      expect(echoed.map((line) => line['outcome'])).toEqual(['use_dpop_nonce', 'signed']);
      expect(echoed[1]).toMatchObject({
        tenant: harness.profile.tenant,
        auditId: expect.any(String),
      });
    });

    it('names the tenant of every decision made after the token was verified', () => {
      const byOutcome = (outcome: string) => accessLines().filter((line) => line['outcome'] === outcome);
      for (const outcome of [
        'signed',
        'checked',
        'insufficient_scope',
        'entitlement_denied',
        'release_untrusted',
        'predicate_unsupported',
        'plan_throttled',
      ]) {
        expect(byOutcome(outcome).length).toBeGreaterThan(0);
        for (const line of byOutcome(outcome)) expect(line['tenant']).toBe(harness.profile.tenant);
      }
      expect(byOutcome('tenant_mismatch').map((line) => line['tenant'])).toEqual(['tenant-other']);
      for (const line of byOutcome('invalid_token')) expect(line).not.toHaveProperty('tenant');
    });
  });

  describe('when /metrics is scraped after the run', () => {
    it('shows the request, PoE, release, quota and cache counters moved', () => {
      const moved = (name: string, labels: Record<string, string>) =>
        sample(after, name, labels) - sample(before, name, labels);
      expect(moved('signer_requests_total', { outcome: 'signed', mode: 'kms' })).toBe(3);
      expect(moved('signer_requests_total', { outcome: 'checked' })).toBe(1);
      expect(moved('signer_requests_total', { outcome: 'invalid_token' })).toBeGreaterThanOrEqual(1);
      expect(moved('signer_requests_total', { outcome: 'predicate_unsupported' })).toBe(1);
      expect(moved('signer_poe_decisions_total', { result: 'allow' })).toBeGreaterThanOrEqual(3);
      expect(moved('signer_poe_decisions_total', { result: 'entitlement_denied' })).toBe(1);
      expect(moved('signer_release_verdicts_total', { result: 'trusted', source: 'oci-layout' })).toBe(1);
      expect(moved('signer_release_verdicts_total', { source: 'oci-layout' })).toBe(2);
      expect(moved('signer_quota_throttled_total', { limit: 'qps' })).toBe(1);
      expect(moved('signer_cache_hits_total', { cache: 'poe' })).toBeGreaterThanOrEqual(1);
      expect(moved('signer_cache_hits_total', { cache: 'release' })).toBeGreaterThanOrEqual(1);
    });

    it('has a duration histogram for every gate and the total', () => {
      for (const stage of [...SIGN_GATES, 'total']) {
        expect(sample(after, 'signer_request_duration_seconds_count', { stage })).toBeGreaterThan(0);
      }
    });

    it('includes the default process metrics', () => {
      expect(after).toContain('process_cpu_user_seconds_total');
      expect(after).toContain('nodejs_heap_size_used_bytes');
    });
  });
});
