import { randomBytes, randomUUID } from 'node:crypto';
import { readAnswer } from './exchange-answer';
import { CLIENT_TIMEOUT_MS, type Connections, type HttpAnswer } from './http-exchange';
import type { Exchange, Ledger, RequestKind } from './ledger';
import type { SignerReplica } from './replicas';
import { SIGN_PATH } from './topology';

/** Path lengths of unknown routes: 4–15 KB, under Node's 16 KB limit for the request head. */
const HUGE_PATH_MIN_BYTES = 4_000;
const HUGE_PATH_MAX_BYTES = 15_000;
/** Unknown routes sent at once, as a flood would: they cross the anonymous-record budget. */
export const HUGE_PATH_BURST = 4;
/** `GET /readyz` sent at once. */
export const READINESS_BURST = 6;
/** Known paths, a method each does not answer, and the `Allow` the edge must send. */
const WRONG_METHODS = [
  { method: 'DELETE', path: SIGN_PATH, allow: 'POST' },
  { method: 'GET', path: SIGN_PATH, allow: 'POST' },
  { method: 'POST', path: '/healthz', allow: 'GET, HEAD' },
  { method: 'PUT', path: '/api/v1/signer/keys', allow: 'GET, HEAD' },
];

interface AnonymousCall {
  op: number;
  kind: RequestKind;
  replica: SignerReplica;
  method: string;
  path: string;
  expectedAllow?: string;
}

/**
 * Requests that carry no credentials: floods of unknown routes with huge paths, wrong methods on
 * known paths, and floods of readiness checks. Each is one exchange in the ledger.
 */
export class AnonymousTraffic {
  constructor(
    private readonly ledger: Ledger,
    private readonly connections: Connections,
  ) {}

  async hugePaths(op: number, replica: SignerReplica, random: () => number): Promise<void> {
    const span = HUGE_PATH_MAX_BYTES - HUGE_PATH_MIN_BYTES;
    await Promise.all(
      Array.from({ length: HUGE_PATH_BURST }, () => {
        const bytes = HUGE_PATH_MIN_BYTES + Math.floor(random() * span);
        const path = `/${randomBytes(Math.ceil(bytes / 2)).toString('hex')}`;
        return this.send({ op, kind: 'huge-path', replica, method: 'GET', path });
      }),
    );
  }

  /**
   * `count` unknown routes at once on one replica: sent while no other traffic runs, the replica's
   * anonymous-record budget is crossed for certain and its summary record is seen whole (random
   * floods cross it too, but under load their summaries may overlap a request left unanswered).
   */
  async budgetBurst(op: number, replica: SignerReplica, count: number): Promise<void> {
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        this.send({ op, kind: 'huge-path', replica, method: 'GET', path: `/soak-budget-burst-${i}` }),
      ),
    );
  }

  async wrongMethod(op: number, replica: SignerReplica, random: () => number): Promise<void> {
    const { method, path, allow } = WRONG_METHODS[Math.floor(random() * WRONG_METHODS.length)];
    await this.send({ op, kind: 'wrong-method', replica, method, path, expectedAllow: allow });
  }

  async readinessFlood(op: number, replica: SignerReplica): Promise<void> {
    await Promise.all(
      Array.from({ length: READINESS_BURST }, () =>
        this.send({ op, kind: 'readyz-flood', replica, method: 'GET', path: '/readyz' }),
      ),
    );
  }

  private async send(call: AnonymousCall): Promise<Exchange> {
    const { op, kind, replica, method, path, expectedAllow } = call;
    const id = `soak-${randomUUID()}`;
    const exchange: Exchange = {
      id,
      op,
      step: 0,
      kind,
      method,
      replica: replica.name,
      tenant: '-',
      start: Date.now(),
      end: 0,
      status: 0,
      expectedAllow,
    };
    let answer: HttpAnswer | undefined;
    try {
      answer = await this.connections.send({
        method,
        url: `${replica.url}${path}`,
        timeoutMs: CLIENT_TIMEOUT_MS,
        headers: { 'x-correlation-id': id },
      });
    } catch (error) {
      exchange.transportError = (error as Error).message.slice(0, 200);
    }
    exchange.end = Date.now();
    if (answer) readAnswer(exchange, answer);
    this.ledger.add(exchange);
    return exchange;
  }
}
