import { SIGNER_ERROR_CODES } from '@signer/core';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { Caller, SIGN_PATH, startHarness, validBody, type Harness } from './harness';
import { verifyDsseIndependently } from './independent-verify';

/** CI replays one fixed seed (reproducible); locally every run explores new cases (fast-check prints the seed). */
const RUN = { numRuns: 500, ...(process.env['CI'] ? { seed: 20261128 } : {}) };
const CONTRACT_STATUSES = [200, 400, 401, 403, 409, 413, 415, 422, 429, 503];
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/~ ';

/** Printable ASCII only: a header value with control characters never reaches the app. */
const headerText = fc.string({ unit: 'grapheme-ascii', maxLength: 200 });
const FIELDS = ['subject', 'predicateType', 'predicate', 'scannerImageDigest', 'poe'];
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];

/**
 * Damage to a credential string: a flipped, inserted or dropped character, or truncation. The last
 * character is left alone: its spare base64url bits can decode to the same signature.
 */
const mutate = (value: string, at: number, char: string, how: number): string => {
  const i = at % (value.length - 1);
  const swapped = char === value[i] ? (char === 'A' ? 'B' : 'A') : char;
  if (how === 0) return `${value.slice(0, i)}${swapped}${value.slice(i + 1)}`;
  if (how === 1) return `${value.slice(0, i)}${char}${value.slice(i)}`;
  if (how === 2) return `${value.slice(0, i)}${value.slice(i + 1)}`;
  return value.slice(0, i);
};
const damage = fc.tuple(fc.nat(), fc.constantFrom(...ALPHABET), fc.integer({ min: 0, max: 3 }));

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A well-formed compact JWS whose header and payload members are any JSON (`{ toString: 1 }` too). */
const member = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant({ toString: 1 }));
const compactJws = fc
  .tuple(
    fc.record({ typ: member, alg: fc.oneof(fc.constant('ES256'), member), jwk: member }),
    fc.dictionary(fc.constantFrom('jti', 'htm', 'htu', 'iat', 'ath', 'nonce', 'cnf'), member),
    fc.uint8Array({ minLength: 1, maxLength: 64 }),
  )
  .map(
    ([header, payload, sig]) =>
      `${segment(header)}.${segment(payload)}.${Buffer.from(sig).toString('base64url')}`,
  );

type Credential =
  | { kind: 'valid' }
  | { kind: 'missing' }
  | { kind: 'random'; value: string }
  | {
      kind: 'mutated';
      at: number;
      char: string;
      how: number;
    };
const credential: fc.Arbitrary<Credential> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'valid' as const }) },
  fc.constant({ kind: 'missing' as const }),
  headerText.map((value) => ({ kind: 'random' as const, value })),
  compactJws.map((value) => ({ kind: 'random' as const, value })),
  damage.map(([at, char, how]) => ({ kind: 'mutated' as const, at, char, how })),
);

/** What the body is, and whether it may be accepted (a PoE or field mutation never may). */
type BodyPlan = (harness: Harness) => { payload: string; mayPass: boolean };
const deep = (depth: number): unknown => (depth === 0 ? 'leaf' : { a: [deep(depth - 1)] });
const bodyPlan: fc.Arbitrary<BodyPlan> = fc.oneof(
  fc.constant<BodyPlan>((h) => ({ payload: JSON.stringify(validBody(h)), mayPass: true })),
  fc.jsonValue().map<BodyPlan>((value) => () => ({ payload: JSON.stringify(value), mayPass: false })),
  fc
    .string({ unit: 'binary', maxLength: 300 })
    .map<BodyPlan>((text) => () => ({ payload: text, mayPass: false })),
  fc.constantFrom(...FIELDS).map<BodyPlan>((field) => (h) => {
    const body = validBody(h);
    delete body[field];
    return { payload: JSON.stringify(body), mayPass: false };
  }),
  fc.tuple(fc.constantFrom(...FIELDS), fc.jsonValue()).map<BodyPlan>(([field, value]) => (h) => ({
    payload: JSON.stringify(validBody(h, { [field]: value })),
    // Any object is a valid predicate; every other field replaced by a random value is invalid.
    mayPass: field === 'predicate' && typeof value === 'object' && value !== null && !Array.isArray(value),
  })),
  damage.map<BodyPlan>(([at, char, how]) => (h) => ({
    payload: JSON.stringify(validBody(h, { poe: { format: 'jwt', value: mutate(h.poe, at, char, how) } })),
    mayPass: false,
  })),
  fc
    .tuple(fc.constantFrom(...HOSTILE_KEYS), fc.jsonValue(), fc.boolean())
    .map<BodyPlan>(([key, value, nested]) => (h) => {
      const body = JSON.stringify(validBody(h));
      const inject = `{${JSON.stringify(key)}:${JSON.stringify(value)},`;
      // Raw text, so `__proto__` arrives as an own member the way an attacker would send it.
      const payload = nested
        ? body.replace('"predicate":{', `"predicate":${inject}`)
        : `${inject}${body.slice(1)}`;
      return { payload, mayPass: true };
    }),
  fc
    .tuple(
      fc.constantFrom('constructor', 'tostring', 'valueof', 'sha1', 'proto'),
      fc.stringMatching(/^[0-9a-f]{1,64}$/),
    )
    .map<BodyPlan>(([algorithm, hex]) => (h) => ({
      payload: JSON.stringify(
        validBody(h, { subject: [{ name: 'a', digest: { sha256: 'ab'.repeat(32), [algorithm]: hex } }] }),
      ),
      mayPass: false,
    })),
  fc
    .tuple(fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom('\uD800', '\uDFFF', ''))
    .map<BodyPlan>(([text, lone]) => (h) => ({
      payload: JSON.stringify(validBody(h, { predicate: { text: `${text}${lone}` } })),
      mayPass: true,
    })),
  fc.integer({ min: 1, max: 1000 }).map<BodyPlan>((depth) => (h) => ({
    payload: JSON.stringify(validBody(h, { predicate: deep(depth) })),
    mayPass: true,
  })),
  fc
    .tuple(
      fc.integer({ min: 1000, max: 900_000 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }),
    )
    .map<BodyPlan>(([size, unit]) => (h) => ({
      payload: JSON.stringify(
        validBody(h, { predicate: { note: unit.repeat(Math.ceil(size / unit.length)) } }),
      ),
      mayPass: true,
    })),
);

const scenario = fc.record({
  body: bodyPlan,
  contentType: fc.oneof(
    { weight: 6, arbitrary: fc.constant<string | undefined>('application/json') },
    fc.constantFrom<string | undefined>(
      undefined,
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/problem+json',
    ),
    headerText,
  ),
  authorization: credential,
  dpop: credential,
  idempotencyKey: fc.option(headerText, { nil: undefined }),
  correlationId: fc.option(fc.oneof(fc.stringMatching(/^[A-Za-z0-9._:-]{1,130}$/), headerText), {
    nil: undefined,
  }),
});

/** The header for a credential plan; mutation hits the credential, not the (case-insensitive) scheme. */
function resolve(credential: Credential, valid: string, prefix = ''): string | undefined {
  switch (credential.kind) {
    case 'valid':
      return `${prefix}${valid}`;
    case 'missing':
      return undefined;
    case 'random':
      return credential.value;
    case 'mutated':
      return `${prefix}${mutate(valid, credential.at, credential.char, credential.how)}`;
  }
}

function expectContractResponse(response: LightMyRequestResponse, sentCorrelationId?: string): void {
  expect(CONTRACT_STATUSES).toContain(response.statusCode);
  const echoed = response.headers['x-correlation-id'];
  expect(typeof echoed).toBe('string');
  if (sentCorrelationId !== undefined && !CORRELATION_ID.test(sentCorrelationId)) {
    expect(echoed).not.toBe(sentCorrelationId);
  }
  if (sentCorrelationId !== undefined && CORRELATION_ID.test(sentCorrelationId)) {
    expect(echoed).toBe(sentCorrelationId);
  }
  if (response.statusCode === 200) return;
  expect(response.headers['content-type']).toContain('application/problem+json');
  const problem = response.json();
  expect(SIGNER_ERROR_CODES).toContain(problem.code);
  expect(problem.status).toBe(response.statusCode);
  expect(problem.auditId).toMatch(/^[0-9a-f-]{36}$/);
  if (response.statusCode === 503) expect(problem.code).toBe('upstream_unavailable');
}

describe('POST /api/v1/signer/sign/dsse under fuzzing', () => {
  let harness: Harness;
  let caller: Caller;
  let nonce: string | undefined;
  let publicKeyPem: string;

  beforeAll(async () => {
    harness = await startHarness();
    caller = await Caller.create(harness);
    const keys = (await harness.app.inject({ method: 'GET', url: '/api/v1/signer/keys' })).json();
    publicKeyPem = keys.keys.find((k: { name: string }) => k.name === 'default').publicKeyPem;
  });

  afterAll(async () => {
    const leaks = [caller.token, harness.poe];
    const trail = `${harness.logs.lines.join('\n')}${JSON.stringify(harness.auditLines())}`;
    for (const secret of leaks) expect(trail).not.toContain(secret);
    await harness.close();
  });

  describe('when requests are generated hostile', () => {
    it('answers only contract statuses and signs only fully valid requests', async () => {
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(scenario, async (s) => {
          const { payload, mayPass } = s.body(harness);
          const send = async () => {
            const headers: Record<string, string> = {};
            const authorization = resolve(s.authorization, caller.token, 'DPoP ');
            const dpop = resolve(s.dpop, await caller.proof('POST', SIGN_PATH, { nonce: nonce ?? null }));
            if (authorization !== undefined) headers['authorization'] = authorization;
            if (dpop !== undefined) headers['dpop'] = dpop;
            if (s.contentType !== undefined) headers['content-type'] = s.contentType;
            if (s.idempotencyKey !== undefined) headers['idempotency-key'] = s.idempotencyKey;
            if (s.correlationId !== undefined) headers['x-correlation-id'] = s.correlationId;
            return harness.app.inject({ method: 'POST', url: SIGN_PATH, payload, headers });
          };
          let response = await send();
          if (response.statusCode === 401 && response.headers['dpop-nonce']) {
            nonce = response.headers['dpop-nonce'] as string;
            if (response.json().code === 'use_dpop_nonce') response = await send();
          }
          expectContractResponse(response, s.correlationId);
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
          if (response.statusCode === 200) {
            expect(s.authorization.kind).toBe('valid');
            expect(s.dpop.kind).toBe('valid');
            expect(mayPass).toBe(true);
            // A 200 is a real signature: it verifies against the published key, independently.
            expect(verifyDsseIndependently(response.json().bundle.dsse, publicKeyPem)).toBe(true);
          }
          const text = response.body;
          expect(text).not.toContain(caller.token);
          expect(text).not.toContain(harness.poe);
        }),
        RUN,
      );
      // The generator must reach the signing path, or the property above says nothing about it.
      expect(statuses.get(200)).toBeGreaterThan(0);
      expect(statuses.get(400)).toBeGreaterThan(0);
      expect(statuses.get(401)).toBeGreaterThan(0);
    }, 240_000);
  });

  describe('when a body found by fuzzing is sent again (regressions)', () => {
    const expectInvalid = async (body: Record<string, unknown>) => {
      const response = await caller.sign(body);
      expectContractResponse(response);
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('invalid_request');
    };

    it('refuses a digest algorithm named like an Object.prototype member with 400', async () => {
      const digest = { sha256: 'ab'.repeat(32), constructor: 'ab' };
      await expectInvalid(validBody(harness, { subject: [{ name: 'a', digest }] }));
    });

    it('refuses a predicate nested deeper than canonical JSON allows with 400', async () => {
      await expectInvalid(validBody(harness, { predicate: deep(300) as Record<string, unknown> }));
    });

    it('refuses a DPoP proof whose typ is an object with a toString member with 401', async () => {
      const proof = `${segment({ typ: { toString: 1 }, alg: 'ES256' })}.${segment({})}.AAAA`;
      const response = await caller.sign(validBody(harness), { dpop: proof });
      expectContractResponse(response);
      expect(response.statusCode).toBe(401);
      expect(response.json().code).toBe('invalid_dpop_proof');
    });

    it('refuses a predicate holding a lone surrogate with 400', async () => {
      await expectInvalid(validBody(harness, { predicate: { text: 'a\uD800' } }));
    });
  });
});
