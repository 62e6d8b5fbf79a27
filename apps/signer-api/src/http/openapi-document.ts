import type { SignerErrorCode } from '@signer/core';
import type { TSchema } from '@sinclair/typebox';
import { ERROR_TABLE } from './error-table';
import { CreateCeremonyBodySchema, RejectCeremonyBodySchema } from './ceremony-request.schema';
import {
  CeremonyListSchema,
  CeremonySchema,
  KeysResponseSchema,
  ProblemSchema,
  ReleaseVerdictSchema,
  SignDsseResponseSchema,
} from './response.schemas';
import { SignDsseBodySchema } from './sign-request.schema';

type Json = Record<string, unknown>;

/** TypeBox schemas carry symbol keys; JSON keeps exactly the JSON Schema. */
const plain = (schema: TSchema): Json => JSON.parse(JSON.stringify(schema)) as Json;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const header = (description: string, schema: Json = { type: 'string' }) => ({ description, schema });

const CORRELATION = { 'X-Correlation-Id': { $ref: '#/components/headers/X-Correlation-Id' } };

/** Problem responses for the given codes, grouped by HTTP status, each listing its possible codes. */
function problems(codes: Array<SignerErrorCode | [SignerErrorCode, number]>): Json {
  const byStatus = new Map<number, SignerErrorCode[]>();
  for (const entry of codes) {
    const [code, status] = Array.isArray(entry) ? entry : [entry, ERROR_TABLE[entry].status];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Json = {};
  for (const [status, list] of [...byStatus.entries()].sort(([a], [b]) => a - b)) {
    const headers: Json = { ...CORRELATION };
    if (status === 401 || list.includes('insufficient_scope'))
      headers['WWW-Authenticate'] = { $ref: '#/components/headers/WWW-Authenticate' };
    if (list.includes('use_dpop_nonce')) headers['DPoP-Nonce'] = { $ref: '#/components/headers/DPoP-Nonce' };
    if (status === 429 || status === 503)
      headers['Retry-After'] = { $ref: '#/components/headers/Retry-After' };
    responses[String(status)] = {
      description: list.map((code) => `\`${code}\`: ${ERROR_TABLE[code].detail}`).join('; '),
      headers,
      content: {
        'application/problem+json': {
          schema: { allOf: [ref('Problem'), { properties: { code: { enum: list } } }] },
        },
      },
    };
  }
  return responses;
}

const AUTH_CODES: SignerErrorCode[] = [
  'invalid_token',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'insufficient_scope',
];
const SECURITY = [{ DPoP: [] }, { mTLS: [] }];
const ok = (description: string, schema: Json, type = 'application/json') => ({
  '200': { description, headers: CORRELATION, content: { [type]: { schema } } },
});

const CEREMONY_ID = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' },
};
const CEREMONY_HEADERS = [
  { $ref: '#/components/parameters/DPoP' },
  { $ref: '#/components/parameters/CorrelationId' },
];
const STEP_REFUSALS: SignerErrorCode[] = [
  'invalid_request',
  ...AUTH_CODES,
  'ceremony_not_found',
  'ceremony_state_conflict',
  'ceremony_expired',
  'upstream_unavailable',
  'internal_error',
];

/** One step on one ceremony: `POST /ceremonies/{id}/<step>`. */
function ceremonyStep(operationId: string, summary: string, codes: SignerErrorCode[], body?: string): Json {
  return {
    post: {
      operationId,
      summary,
      security: SECURITY,
      parameters: [CEREMONY_ID, ...CEREMONY_HEADERS],
      ...(body
        ? { requestBody: { required: true, content: { 'application/json': { schema: ref(body) } } } }
        : {}),
      responses: {
        ...ok(
          'The ceremony after the step; returned only after its audit record(s) are durable.',
          ref('Ceremony'),
        ),
        ...problems([...STEP_REFUSALS, ...codes]),
      },
    },
  };
}

/** Dual-control ceremonies (contract §11). */
function ceremonyPaths(): Json {
  const base = '/api/v1/signer/ceremonies';
  return {
    [base]: {
      post: {
        operationId: 'createCeremony',
        summary:
          'Start a ceremony for a change to the managed keys or trust anchors (scope signer.ceremony.initiate)',
        security: SECURITY,
        parameters: CEREMONY_HEADERS,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: ref('CreateCeremonyRequest') } },
        },
        responses: {
          '201': {
            description: 'The pending ceremony; returned only after its `initiated` record is durable.',
            headers: CORRELATION,
            content: { 'application/json': { schema: ref('Ceremony') } },
          },
          ...problems([
            'invalid_request',
            ['invalid_request', 415],
            ...AUTH_CODES,
            'artifact_too_large',
            // ceremonies.maxOpenPerInitiator open ceremonies already (limit `ceremonies`).
            'plan_throttled',
            'upstream_unavailable',
            'internal_error',
          ]),
        },
      },
      get: {
        operationId: 'listCeremonies',
        summary: 'Ceremonies, newest first (scope signer.ceremony.initiate or signer.ceremony.approve)',
        security: SECURITY,
        parameters: [
          {
            name: 'status',
            in: 'query',
            required: false,
            schema: { enum: ['pending', 'approved', 'rejected', 'executed', 'expired', 'cancelled'] },
          },
          {
            name: 'limit',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
          },
          ...CEREMONY_HEADERS,
        ],
        responses: {
          ...ok('The ceremonies', ref('CeremonyList')),
          ...problems(['invalid_request', ...AUTH_CODES, 'upstream_unavailable', 'internal_error']),
        },
      },
    },
    [`${base}/{id}`]: {
      get: {
        operationId: 'getCeremony',
        summary: 'One ceremony (scope signer.ceremony.initiate or signer.ceremony.approve)',
        security: SECURITY,
        parameters: [CEREMONY_ID, ...CEREMONY_HEADERS],
        responses: {
          ...ok('The ceremony', ref('Ceremony')),
          ...problems([
            'invalid_request',
            ...AUTH_CODES,
            'ceremony_not_found',
            'upstream_unavailable',
            'internal_error',
          ]),
        },
      },
    },
    [`${base}/{id}/approve`]: ceremonyStep(
      'approveCeremony',
      'Approve (scope signer.ceremony.approve; not the initiator; once per principal)',
      ['ceremony_self_approval', 'ceremony_duplicate_vote'],
    ),
    [`${base}/{id}/reject`]: ceremonyStep(
      'rejectCeremony',
      'Reject with a reason: one rejection vetoes (scope signer.ceremony.approve)',
      ['ceremony_self_approval', 'ceremony_duplicate_vote'],
      'RejectCeremonyRequest',
    ),
    [`${base}/{id}/execute`]: ceremonyStep(
      'executeCeremony',
      'Apply an approved ceremony to the managed state (scope signer.ceremony.initiate or signer.ceremony.approve)',
      ['ceremony_threshold_not_met', 'key_state_conflict'],
    ),
    [`${base}/{id}/cancel`]: ceremonyStep(
      'cancelCeremony',
      'Withdraw a pending or approved ceremony (the initiator; scope signer.ceremony.initiate)',
      [],
    ),
  };
}

/** `servers[0].description`; the published copy (docs/openapi.json) shows the default URL. */
const SERVER_DESCRIPTION =
  'this Signer: server.publicBaseUrl, else the address it listens on (embedded profile default shown)';

/** One `servers` entry naming `url`. */
export const serverEntry = (url: string) => ({ url, description: SERVER_DESCRIPTION });

/**
 * The OpenAPI 3.1 document, generated from the same schemas that validate requests. The service
 * serves it with `server` = its own public base URL, so a moved port shows in `servers`.
 */
export function buildOpenApiDocument(version: string, server = serverEntry('http://127.0.0.1:8080')): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Stella Ops Signer',
      version,
      description:
        'Signs DSSE envelopes over in-toto statements after caller, entitlement, release-integrity and quota gates.',
    },
    servers: [server],
    paths: {
      '/api/v1/signer/sign/dsse': {
        post: {
          operationId: 'signDsse',
          summary: 'Sign an in-toto statement as a DSSE envelope',
          security: SECURITY,
          parameters: [
            { $ref: '#/components/parameters/DPoP' },
            { $ref: '#/components/parameters/IdempotencyKey' },
            { $ref: '#/components/parameters/CorrelationId' },
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: ref('SignDsseRequest') } },
          },
          responses: {
            ...ok(
              'The signed bundle; returned only after its audit record is durable.',
              ref('SignDsseResponse'),
            ),
            ...problems([
              'invalid_request',
              ...AUTH_CODES,
              'tenant_mismatch',
              'entitlement_denied',
              'release_untrusted',
              'idempotency_conflict',
              'artifact_too_large',
              ['invalid_request', 415],
              'predicate_unsupported',
              'plan_throttled',
              'upstream_unavailable',
              'internal_error',
            ]),
          },
        },
      },
      '/api/v1/signer/verify/referrers': {
        get: {
          operationId: 'verifyReferrers',
          summary: 'The release-integrity verdict for a scanner image digest, without signing',
          security: SECURITY,
          parameters: [
            {
              name: 'digest',
              in: 'query',
              required: true,
              schema: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
            },
            { $ref: '#/components/parameters/DPoP' },
            { $ref: '#/components/parameters/CorrelationId' },
          ],
          responses: {
            ...ok(
              'Both verdicts answer 200: `trusted` with the evidence, or not trusted with a `reason`.',
              ref('ReleaseVerdict'),
            ),
            ...problems(['invalid_request', ...AUTH_CODES, 'upstream_unavailable', 'internal_error']),
          },
        },
      },
      '/api/v1/signer/keys': {
        get: {
          operationId: 'keys',
          summary: 'Public verification material in use',
          responses: ok('Keys and the Fulcio chain', ref('KeysResponse')),
        },
      },
      ...ceremonyPaths(),
      '/api/v1/signer/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          responses: ok('OpenAPI 3.1', { type: 'object' }),
        },
      },
      '/healthz': {
        get: { operationId: 'healthz', summary: 'Process alive', responses: ok('alive', { type: 'object' }) },
      },
      '/readyz': {
        get: {
          operationId: 'readyz',
          summary: 'Config loaded and every configured dependency reachable',
          responses: {
            ...ok('ready', { type: 'object' }),
            '503': {
              description: 'a dependency is unavailable',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          responses: ok('text exposition format', { type: 'string' }, 'text/plain'),
        },
      },
    },
    components: {
      schemas: {
        SignDsseRequest: plain(SignDsseBodySchema),
        SignDsseResponse: plain(SignDsseResponseSchema),
        ReleaseVerdict: plain(ReleaseVerdictSchema),
        KeysResponse: plain(KeysResponseSchema),
        Ceremony: plain(CeremonySchema),
        CeremonyList: plain(CeremonyListSchema),
        CreateCeremonyRequest: plain(CreateCeremonyBodySchema),
        RejectCeremonyRequest: plain(RejectCeremonyBodySchema),
        Problem: plain(ProblemSchema),
      },
      parameters: {
        DPoP: {
          name: 'DPoP',
          in: 'header',
          required: false,
          description: 'RFC 9449 proof JWT (DPoP-bound callers)',
          schema: { type: 'string' },
        },
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          schema: { type: 'string', maxLength: 128 },
        },
        CorrelationId: {
          name: 'X-Correlation-Id',
          in: 'header',
          required: false,
          description: 'Echoed when it matches the pattern; otherwise a UUID is generated',
          schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
        },
      },
      headers: {
        'X-Correlation-Id': header('The request correlation id (echoed or generated)'),
        'DPoP-Nonce': header('A fresh server nonce to put in the next proof (RFC 9449 §8)'),
        'WWW-Authenticate': header('RFC 6750 / RFC 9449 challenge naming the error'),
        'Retry-After': header('Seconds to wait before retrying', { type: 'integer', minimum: 1 }),
      },
      securitySchemes: {
        DPoP: {
          type: 'http',
          scheme: 'DPoP',
          description: '`Authorization: DPoP <OpTok>` plus a `DPoP` proof header (RFC 9449)',
        },
        mTLS: {
          type: 'mutualTLS',
          description:
            '`Authorization: Bearer <OpTok>` over TLS with the client certificate in `cnf.x5t#S256` (RFC 8705)',
        },
      },
    },
  };
}
