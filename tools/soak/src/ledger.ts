/** What a request was meant to exercise; decides which answers are right for it. */
export type RequestKind =
  | 'sign-file'
  | 'sign-aws'
  | 'sign-keyless'
  | 'sign-quota'
  | 'retry-same'
  | 'retry-conflict'
  | 'bad-token'
  | 'wrong-tenant'
  | 'bad-dpop'
  | 'oversized'
  | 'bad-json'
  /** A valid signing with a body near `server.bodyLimitBytes` and a fresh Idempotency-Key (own tenant). */
  | 'large-idempotent'
  /** A body near `server.bodyLimitBytes` with a forged token. */
  | 'bad-token-large'
  /** An unknown route with a 4–15 KB path, no credentials. */
  | 'huge-path'
  /** A known path with a method it does not answer, no credentials. */
  | 'wrong-method'
  /** One of a burst of `GET /readyz`. */
  | 'readyz-flood'
  /** A slowloris connection: held open on purpose, never answered. */
  | 'slow-client';

export const VALID_KINDS: ReadonlySet<RequestKind> = new Set([
  'sign-file',
  'sign-aws',
  'sign-keyless',
  'sign-quota',
  'retry-same',
  'retry-conflict',
  'large-idempotent',
]);

/** One HTTP exchange, as the caller saw it. Times are epoch ms on the harness clock. */
export interface Exchange {
  /** Sent as `X-Correlation-Id`: the audit record of the decision carries it back. */
  id: string;
  /** Exchanges of one logical request (nonce retry, idempotent retry) share it. */
  op: number;
  /** Position in the operation: 0 first send, 1 the retry. */
  step: number;
  kind: RequestKind;
  /** When not `POST`. */
  method?: string;
  replica: string;
  tenant: string;
  start: number;
  end: number;
  /** 0 when no HTTP answer came (connection refused or reset, timeout). */
  status: number;
  code?: string;
  auditId?: string;
  retryAfter?: string;
  /** The `Allow` header of the answer, and the one a `wrong-method` request expects. */
  allow?: string;
  expectedAllow?: string;
  /** The `status` member of a `/readyz` answer. */
  readiness?: string;
  correlationEcho?: string;
  problemJson?: boolean;
  transportError?: string;
  /** The caller's answer to a `use_dpop_nonce` challenge followed. */
  challenged?: boolean;
  /** SHA-256 of the request's subject digest, to tie the signed Statement to this request. */
  subjectDigest?: string;
  /** Kept for 200s only: the signed answer, checked after the run. */
  response?: Record<string, unknown>;
  idempotencyKey?: string;
}

export class Ledger {
  readonly exchanges: Exchange[] = [];
  /** `GET /readyz` of the readiness floods: no decision, no audit record; judged on their own. */
  readonly readiness: Exchange[] = [];
  private nextOp = 0;

  newOp(): number {
    return (this.nextOp += 1);
  }

  add(exchange: Exchange): void {
    (exchange.kind === 'readyz-flood' ? this.readiness : this.exchanges).push(exchange);
  }
}
