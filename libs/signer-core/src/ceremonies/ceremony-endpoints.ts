import { SignerError } from '../errors';
import type { CallerAuthenticator, CallerCredentials } from '../pipeline/caller-authenticator';
import type { DecisionLog } from '../pipeline/decision-log';
import type { DecisionTrail } from '../pipeline/decision-trail';
import type { Ceremony, CeremonyPrincipal, CeremonyStatus } from './ceremony';
import { MAX_CEREMONY_LIST_LIMIT, type CeremonyService } from './ceremony-service';

/** Starts ceremonies, executes and cancels them; reads them. */
export const CEREMONY_INITIATE_SCOPE = 'signer.ceremony.initiate';
/** Votes (approve, reject); executes and reads. */
export const CEREMONY_APPROVE_SCOPE = 'signer.ceremony.approve';

const BASE = '/api/v1/signer/ceremonies';
/** Fixed route names for the audit trail (never the raw URL). */
export const CEREMONY_ROUTES = {
  create: `POST ${BASE}`,
  list: `GET ${BASE}`,
  get: `GET ${BASE}/:id`,
  approve: `POST ${BASE}/:id/approve`,
  reject: `POST ${BASE}/:id/reject`,
  execute: `POST ${BASE}/:id/execute`,
  cancel: `POST ${BASE}/:id/cancel`,
} as const;

export type CeremonyStep = keyof typeof CEREMONY_ROUTES;

/**
 * Who may take each step. Creating and cancelling belong to initiators, voting to approvers
 * (separation of duties: an approver need not be able to propose); executing an approved
 * ceremony and reading are open to both, since the threshold already carries the dual control.
 */
export const CEREMONY_STEP_SCOPES: Readonly<Record<CeremonyStep, readonly string[]>> = {
  create: [CEREMONY_INITIATE_SCOPE],
  cancel: [CEREMONY_INITIATE_SCOPE],
  approve: [CEREMONY_APPROVE_SCOPE],
  reject: [CEREMONY_APPROVE_SCOPE],
  execute: [CEREMONY_INITIATE_SCOPE, CEREMONY_APPROVE_SCOPE],
  get: [CEREMONY_INITIATE_SCOPE, CEREMONY_APPROVE_SCOPE],
  list: [CEREMONY_INITIATE_SCOPE, CEREMONY_APPROVE_SCOPE],
};

/** Ceremony ids are UUIDs (v7 when made here); anything else is refused before the store is asked. */
export const CEREMONY_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STATUSES: readonly CeremonyStatus[] = [
  'pending',
  'approved',
  'rejected',
  'executed',
  'expired',
  'cancelled',
];
export const DEFAULT_CEREMONY_LIST_LIMIT = 20;

export interface CeremonyRequest {
  credentials: CallerCredentials;
  /** The `:id` path parameter, for the steps on one ceremony. */
  id?: unknown;
  body?: unknown;
  query?: { status?: unknown; limit?: unknown };
}

/**
 * The request bodies' schema (the edge's JSON Schema, which also documents them). Contract: throws
 * `invalid_request` naming the first offending field; the service still checks what a schema
 * cannot (a PEM that parses, validUntil after validFrom).
 */
export interface CeremonyBodySchema {
  check(step: 'create' | 'reject', body: unknown): void;
}

export interface CeremonyEndpointsOptions {
  authenticator: CallerAuthenticator;
  service: CeremonyService;
  decisions: DecisionLog;
  bodies?: CeremonyBodySchema;
}

export interface CeremonyListAnswer {
  ceremonies: Ceremony[];
}

/**
 * The HTTP-independent edge of the ceremony routes: checks the path and query, authenticates the
 * caller (OpTok, sender binding, the step's scopes), runs the step, and audits every refusal as
 * its own decision. The principal is the token's `sub` within its tenant.
 */
export class CeremonyEndpoints {
  private readonly authenticator: CallerAuthenticator;
  private readonly service: CeremonyService;
  private readonly decisions: DecisionLog;

  constructor(private readonly options: CeremonyEndpointsOptions) {
    ({ authenticator: this.authenticator, service: this.service, decisions: this.decisions } = options);
  }

  async handle(trail: DecisionTrail, step: 'list', request: CeremonyRequest): Promise<CeremonyListAnswer>;
  async handle(
    trail: DecisionTrail,
    step: Exclude<CeremonyStep, 'list'>,
    request: CeremonyRequest,
  ): Promise<Ceremony>;
  async handle(
    trail: DecisionTrail,
    step: CeremonyStep,
    request: CeremonyRequest,
  ): Promise<Ceremony | CeremonyListAnswer> {
    try {
      const id =
        step === 'create' || step === 'list' ? '' : await trail.gate('body', () => ceremonyId(request.id));
      if (id !== '') trail.record.ceremony = { id };
      const query =
        step === 'list' ? await trail.gate('body', () => listQuery(request.query ?? {})) : undefined;
      const { token } = await this.authenticator.authenticate(
        request.credentials,
        trail,
        CEREMONY_STEP_SCOPES[step],
      );
      const principal: CeremonyPrincipal = {
        sub: token.subject,
        tenant: token.tenant,
        ...(token.clientId === undefined ? {} : { clientId: token.clientId }),
      };
      const bodies = this.options.bodies;
      if (bodies && (step === 'create' || step === 'reject'))
        await trail.gate('body', () => bodies.check(step, request.body));
      switch (step) {
        case 'create':
          return await this.service.create(trail, principal, operationOf(request.body));
        case 'list':
          return { ceremonies: await this.service.list(trail, query as NonNullable<typeof query>) };
        case 'get':
          return await this.service.get(trail, id);
        case 'approve':
          return await this.service.approve(trail, principal, id);
        case 'reject':
          return await this.service.reject(trail, principal, id, fieldOf(request.body, 'reason'));
        case 'execute':
          return await this.service.execute(trail, principal, id);
        case 'cancel':
          return await this.service.cancel(trail, principal, id);
      }
    } catch (thrown) {
      throw await this.decisions.refuse(trail, thrown);
    }
  }
}

function ceremonyId(value: unknown): string {
  if (typeof value !== 'string' || !CEREMONY_ID_PATTERN.test(value))
    throw new SignerError('invalid_request', 'id: expected a lowercase UUID');
  return value;
}

function listQuery(query: { status?: unknown; limit?: unknown }): { status?: CeremonyStatus; limit: number } {
  const { status, limit } = query;
  if (
    status !== undefined &&
    !(typeof status === 'string' && (STATUSES as readonly string[]).includes(status))
  )
    throw new SignerError('invalid_request', `status: expected one of ${STATUSES.join(', ')}`);
  let parsed = DEFAULT_CEREMONY_LIST_LIMIT;
  if (limit !== undefined) {
    if (
      typeof limit !== 'string' ||
      !/^[0-9]{1,3}$/.test(limit) ||
      Number(limit) < 1 ||
      Number(limit) > MAX_CEREMONY_LIST_LIMIT
    )
      throw new SignerError(
        'invalid_request',
        `limit: expected an integer from 1 to ${MAX_CEREMONY_LIST_LIMIT}`,
      );
    parsed = Number(limit);
  }
  return { ...(status === undefined ? {} : { status: status as CeremonyStatus }), limit: parsed };
}

/** `{ operation }` of a create body; the service checks it (and refuses anything else) at its body gate. */
function operationOf(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const keys = Object.keys(body);
  if (keys.some((key) => key !== 'operation'))
    throw new SignerError(
      'invalid_request',
      `body.${keys.find((k) => k !== 'operation')?.slice(0, 64)}: unknown field`,
    );
  return (body as { operation?: unknown }).operation;
}

function fieldOf(body: unknown, name: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const extra = Object.keys(body).find((key) => key !== name);
  if (extra !== undefined)
    throw new SignerError('invalid_request', `body.${extra.slice(0, 64)}: unknown field`);
  return (body as Record<string, unknown>)[name];
}

/** The scopes a ceremony route (by its fixed audit name) accepts, for the edge's `WWW-Authenticate`. */
export function ceremonyRouteScopes(route: string): readonly string[] | undefined {
  const step = (Object.keys(CEREMONY_ROUTES) as CeremonyStep[]).find((s) => CEREMONY_ROUTES[s] === route);
  return step === undefined ? undefined : CEREMONY_STEP_SCOPES[step];
}
