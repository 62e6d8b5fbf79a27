import { X509Certificate } from 'node:crypto';
import type { Upstream } from './faults';
import type { Exchange, RequestKind } from './ledger';
import { VALID_KINDS } from './ledger';
import type { FaultWindow } from './phases';
import { LICENSING_CACHE_SECONDS, RELEASE_CACHE_SECONDS } from './topology';

/** Contract §2.4: every refusal code and the statuses it may come with. */
export const CONTRACT_CODES: Readonly<Record<string, readonly number[]>> = {
  invalid_request: [400, 404, 405, 415],
  invalid_token: [401],
  invalid_dpop_proof: [401],
  use_dpop_nonce: [401],
  insufficient_scope: [403],
  tenant_mismatch: [403],
  entitlement_denied: [403],
  release_untrusted: [403],
  idempotency_conflict: [409],
  artifact_too_large: [413],
  predicate_unsupported: [422],
  plan_throttled: [429],
  upstream_unavailable: [503],
  internal_error: [500],
};

/** The answer each kind must get when nothing is broken (`status code`, or `200`). */
const EXPECTED: Readonly<Record<RequestKind, readonly string[]>> = {
  'sign-file': ['200'],
  'sign-aws': ['200'],
  'sign-keyless': ['200'],
  'sign-quota': ['200', '429 plan_throttled'],
  'retry-same': ['200'],
  'retry-conflict': ['200', '409 idempotency_conflict'],
  'bad-token': ['401 invalid_token'],
  'wrong-tenant': ['403 tenant_mismatch'],
  'bad-dpop': ['401 invalid_dpop_proof'],
  oversized: ['413 artifact_too_large'],
  'bad-json': ['400 invalid_request'],
  // 429 once the tenant's idempotency records fill their byte budget.
  'large-idempotent': ['200', '429 plan_throttled'],
  'bad-token-large': ['401 invalid_token'],
  'huge-path': ['404 invalid_request'],
  'wrong-method': ['405 invalid_request'],
  'readyz-flood': [],
  'slow-client': [],
};

/** The upstreams a valid signing of this kind cannot do without (a cached decision aside). */
function dependsOn(kind: RequestKind, upstream: Upstream): boolean {
  if (!VALID_KINDS.has(kind)) return false;
  if (upstream === 'kms') return kind === 'sign-aws';
  if (upstream === 'fulcio') return kind === 'sign-keyless';
  return (
    upstream === 'redis' || upstream === 'postgres' || upstream === 'licensing' || upstream === 'registry'
  );
}

export const answerOf = (e: Exchange): string => (e.status === 200 ? '200' : `${e.status} ${e.code ?? '-'}`);

export type Verdict =
  { ok: true } | { ok: false; rule: 'contract' | 'fault' | 'steady'; reason: string; window?: FaultWindow };

export interface JudgeOptions {
  windows: FaultWindow[];
  recoveryBoundMs: number;
  /** Exchanges by operation, to recognise an idempotent replay. */
  byOp: Map<number, Exchange[]>;
}

const isReplay = (e: Exchange, byOp: Map<number, Exchange[]>) =>
  e.kind === 'retry-same' &&
  e.step === 1 &&
  e.auditId !== undefined &&
  (byOp.get(e.op) ?? []).some(
    (other) => other.step === 0 && other.status === 200 && other.auditId === e.auditId,
  );

/** A 200 during `window` is allowed when the request could be served without the broken upstream. */
function servedDespite(e: Exchange, window: FaultWindow, byOp: Map<number, Exchange[]>): boolean {
  if (window.upstream === 'replica') return e.replica !== window.victim;
  // One cluster master down: every key of a request may live on the other masters (or the slot's
  // replica may already be promoted). The quota checks judge admissions on their own.
  if (window.upstream === 'redis-shard') return true;
  if (!dependsOn(e.kind, window.upstream)) return true;
  // An idempotent replay is answered from Redis before the PoE, release and sign gates.
  if (isReplay(e, byOp) && window.upstream !== 'redis' && window.upstream !== 'postgres') return true;
  if (window.upstream === 'licensing') return e.start < window.start + (LICENSING_CACHE_SECONDS + 1) * 1000;
  if (window.upstream === 'registry') return e.start < window.start + (RELEASE_CACHE_SECONDS + 1) * 1000;
  if (window.upstream === 'fulcio') {
    // Keyless signing reuses a certificate issued before Fulcio broke; a newer one cannot exist.
    const chain = (e.response?.['bundle'] as { certificateChain?: string[] } | undefined)?.certificateChain;
    return chain !== undefined && Date.parse(new X509Certificate(chain[0]).validFrom) <= window.start;
  }
  return false;
}

/**
 * Judges one exchange: a contract code (or, for the victim of a SIGKILL, no answer); during a
 * fault only 503 or a 200 that did not need the broken upstream; otherwise the kind's answer.
 */
export function judge(e: Exchange, options: JudgeOptions): Verdict {
  const { windows, recoveryBoundMs, byOp } = options;
  const touching = windows.filter((w) => e.start < w.end + recoveryBoundMs && e.end >= w.injectAt);
  const during = windows.find((w) => e.start >= w.start && e.start < w.clearAt);
  if (e.kind === 'slow-client') return { ok: true };
  if (e.status === 0) {
    const killed = touching.some((w) => w.upstream === 'replica' && w.victim === e.replica);
    return killed
      ? { ok: true }
      : { ok: false, rule: 'contract', reason: `no answer: ${e.transportError}`, window: during };
  }
  if (e.kind === 'readyz-flood') return readiness(e);
  if (e.status !== 200) {
    const statuses = e.code === undefined ? undefined : CONTRACT_CODES[e.code];
    if (!statuses?.includes(e.status) || !e.problemJson || e.code === 'internal_error')
      return { ok: false, rule: 'contract', reason: `${answerOf(e)} (problem+json: ${e.problemJson})` };
  }
  if (e.correlationEcho !== e.id)
    return { ok: false, rule: 'contract', reason: 'X-Correlation-Id not echoed' };
  if (e.status === 405 && e.allow !== e.expectedAllow)
    return { ok: false, rule: 'contract', reason: `405 with Allow ${e.allow}, expected ${e.expectedAllow}` };
  if (e.status === 401 && e.code === 'use_dpop_nonce' && e.challenged) return { ok: true };
  const answer = answerOf(e);
  if (answer === '503 upstream_unavailable') {
    const real = touching.some((w) => w.upstream !== 'replica' && w.upstream !== 'none');
    return real
      ? { ok: true }
      : { ok: false, rule: 'steady', reason: '503 outside every fault and its recovery' };
  }
  // A request still running when the fault was removed may have been answered by the recovered
  // upstream (the Signer retries KMS and Fulcio within its deadline): only a 200 that began and
  // ended inside the fault needs an excuse.
  if (e.status === 200 && during && e.end < during.clearAt && !servedDespite(e, during, byOp))
    return { ok: false, rule: 'fault', reason: `200 for ${e.kind} while ${during.name}`, window: during };
  if (EXPECTED[e.kind].includes(answer)) return { ok: true };
  return { ok: false, rule: during ? 'fault' : 'steady', reason: `${answer} for ${e.kind}`, window: during };
}

/**
 * `/readyz` is anyone's: 200 or 503 with a `status`, whatever is broken (its answer is cached, so
 * it may lag a fault or a recovery by seconds), and nothing more is asserted about it here.
 */
function readiness(e: Exchange): Verdict {
  if ((e.status === 200 || e.status === 503) && e.readiness !== undefined && e.correlationEcho === e.id)
    return { ok: true };
  return {
    ok: false,
    rule: 'contract',
    reason: `/readyz answered ${e.status} (status ${e.readiness ?? 'missing'}, correlation id ${e.correlationEcho === e.id ? 'echoed' : 'not echoed'})`,
  };
}
