import { randomBytes, randomUUID } from 'node:crypto';
import type { Caller, Tenant } from './callers';
import { forgedToken } from './callers';
import type { Connections, HttpAnswer } from './http-exchange';
import type { Exchange, Ledger, RequestKind } from './ledger';
import type { SignerReplica } from './replicas';
import { KEY_IDS } from './topology';
import { sleep } from './wait';

export const SIGN_PATH = '/api/v1/signer/sign/dsse';
const CLIENT_TIMEOUT_MS = 15_000;
/** Over `server.bodyLimitBytes` (1 MiB in the profile). */
const OVERSIZED_BYTES = 1_100_000;

/** The mix of an ordinary worker, by weight. */
const MIX: Array<[RequestKind, number]> = [
  ['sign-file', 26],
  ['sign-aws', 16],
  ['sign-keyless', 16],
  ['retry-same', 10],
  ['retry-conflict', 6],
  ['bad-token', 6],
  ['wrong-tenant', 6],
  ['bad-dpop', 6],
  ['oversized', 3],
  ['bad-json', 5],
];
const MIX_TOTAL = MIX.reduce((sum, [, weight]) => sum + weight, 0);

/** A small seeded generator (mulberry32): the same seed sends the same mix in the same order. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Who sends what to whom: one exchange's identity in the ledger. */
interface Shot {
  op: number;
  step: number;
  kind: RequestKind;
  replica: SignerReplica;
  caller: Caller;
}

interface SendOptions {
  token?: string;
  /** Proof for another URL than the one called (`htu` mismatch). */
  proofUrl?: string;
  headers?: Record<string, string>;
  subjectDigest?: string;
  idempotencyKey?: string;
}

export interface TrafficOptions {
  ledger: Ledger;
  connections: Connections;
  replicas: SignerReplica[];
  scannerImageDigest: string;
  workers: Array<{ callers: Caller[]; quota: boolean }>;
  thinkMs: number;
  seed: number;
}

/**
 * Mixed traffic from concurrent callers, round-robin over the replicas: valid signings with every
 * key kind, idempotent retries (replayed and conflicting, each retry sent to another replica),
 * hostile requests, and one tenant hammering its small plan. Every exchange goes to the ledger.
 */
export class Traffic {
  /** While set, quota workers stand still (the SIGKILL step needs the plan's slots to itself). */
  quotaPaused = false;
  private running = false;
  private loops: Array<Promise<void>> = [];
  private nextReplica = 0;
  private sequence = 0;

  constructor(private readonly options: TrafficOptions) {}

  start(): void {
    this.running = true;
    this.loops = this.options.workers.map((worker, index) =>
      this.loop(worker.callers, worker.quota, seededRandom(this.options.seed + index)),
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Sends one valid signing for `caller` to `replica` (the SIGKILL step uses it to hold slots). */
  signOnce(caller: Caller, replica: SignerReplica, kind: RequestKind = 'sign-quota'): Promise<Exchange> {
    return this.sign({ op: this.options.ledger.newOp(), step: 0, kind, replica, caller }, KEY_IDS.aws);
  }

  private async loop(callers: Caller[], quota: boolean, random: () => number): Promise<void> {
    while (this.running) {
      if (quota && this.quotaPaused) {
        await sleep(20);
        continue;
      }
      const caller = callers[Math.floor(random() * callers.length)];
      const kind: RequestKind = quota ? 'sign-quota' : pick(random());
      const others = callers.filter((c) => c.tenant.name !== caller.tenant.name && !c.tenant.quota);
      try {
        await this.run(kind, caller, others[Math.floor(random() * others.length)] ?? caller);
      } catch (error) {
        // A harness bug, not a service answer: stop loudly rather than record nonsense.
        this.running = false;
        throw error;
      }
      await sleep(this.options.thinkMs);
    }
  }

  private replica(): SignerReplica {
    const { replicas } = this.options;
    this.nextReplica = (this.nextReplica + 1) % replicas.length;
    return replicas[this.nextReplica];
  }

  private async run(kind: RequestKind, caller: Caller, other: Caller): Promise<void> {
    const op = this.options.ledger.newOp();
    const replica = this.replica();
    const shot: Shot = { op, step: 0, kind, replica, caller };
    switch (kind) {
      case 'sign-file':
      case 'sign-quota':
        await this.sign(shot, KEY_IDS.file);
        return;
      case 'sign-aws':
        await this.sign(shot, KEY_IDS.aws);
        return;
      case 'sign-keyless':
        await this.sign(shot, KEY_IDS.keyless);
        return;
      case 'retry-same':
      case 'retry-conflict': {
        const key = `soak-${op}-${randomUUID()}`;
        const first = this.signBody(caller.tenant, KEY_IDS.file);
        await this.send(shot, first.body, {
          subjectDigest: first.digest,
          idempotencyKey: key,
        });
        const second = kind === 'retry-same' ? first : this.signBody(caller.tenant, KEY_IDS.file);
        await this.send({ ...shot, step: 1, replica: this.replica() }, second.body, {
          subjectDigest: second.digest,
          idempotencyKey: key,
        });
        return;
      }
      case 'bad-token':
        await this.sendSigned(shot, { token: forgedToken(caller.token) });
        return;
      case 'wrong-tenant': {
        const { body } = this.signBody(other.tenant, KEY_IDS.file);
        await this.send(shot, body);
        return;
      }
      case 'bad-dpop':
        await this.sendSigned(shot, { proofUrl: `${replica.url}/api/v1/signer/keys` });
        return;
      case 'oversized': {
        const { body } = this.signBody(caller.tenant, KEY_IDS.file, 'x'.repeat(OVERSIZED_BYTES));
        await this.send(shot, body);
        return;
      }
      case 'bad-json':
        await this.send(shot, '{"subject": [{"name": ');
        return;
    }
  }

  private sendSigned(shot: Shot, options: SendOptions) {
    const { body, digest } = this.signBody(shot.caller.tenant, KEY_IDS.file);
    return this.send(shot, body, { ...options, subjectDigest: digest });
  }

  private sign(shot: Shot, keyId: string) {
    const { body, digest } = this.signBody(shot.caller.tenant, keyId);
    return this.send(shot, body, { subjectDigest: digest });
  }

  private signBody(tenant: Tenant, keyId: string, padding?: string): { body: string; digest: string } {
    const digest = randomBytes(32).toString('hex');
    this.sequence += 1;
    const options = keyId === KEY_IDS.keyless ? { signingMode: 'keyless' } : { signingMode: 'kms', keyId };
    const body = {
      subject: [
        { name: `registry.example/soak/${tenant.name}@sha256:${digest}`, digest: { sha256: digest } },
      ],
      predicateType: 'https://stella-ops.org/attestations/sbom/1',
      predicate: { soak: { sequence: this.sequence, tenant: tenant.name }, ...(padding ? { padding } : {}) },
      scannerImageDigest: this.options.scannerImageDigest,
      poe: { format: 'jwt', value: tenant.poe },
      options,
    };
    return { body: JSON.stringify(body), digest };
  }

  /** One request, with the DPoP nonce dance a real client performs (a challenge, then one retry). */
  private async send(shot: Shot, body: string, options: SendOptions = {}): Promise<Exchange> {
    let exchange = await this.attempt(shot, body, options);
    if (exchange.status === 401 && exchange.code === 'use_dpop_nonce' && exchange.challenged) {
      exchange = await this.attempt(shot, body, options);
    }
    return exchange;
  }

  private async attempt(shot: Shot, body: string, options: SendOptions): Promise<Exchange> {
    const { op, step, kind, replica, caller } = shot;
    const url = `${replica.url}${SIGN_PATH}`;
    const token = options.token ?? caller.token;
    const id = `soak-${randomUUID()}`;
    const proof = await caller.key.proof({
      method: 'POST',
      url: options.proofUrl ?? url,
      accessToken: token,
      nonce: caller.nonce,
    });
    const exchange: Exchange = {
      id,
      op,
      step,
      kind,
      replica: replica.name,
      tenant: caller.tenant.name,
      start: Date.now(),
      end: 0,
      status: 0,
      subjectDigest: options.subjectDigest,
      idempotencyKey: options.idempotencyKey,
    };
    let answer: HttpAnswer | undefined;
    try {
      answer = await this.options.connections.send({
        method: 'POST',
        url,
        timeoutMs: CLIENT_TIMEOUT_MS,
        body,
        headers: {
          authorization: `DPoP ${token}`,
          dpop: proof,
          'content-type': 'application/json',
          'x-correlation-id': id,
          ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
          ...options.headers,
        },
      });
    } catch (error) {
      exchange.transportError = (error as Error).message.slice(0, 200);
    }
    exchange.end = Date.now();
    if (answer) record(exchange, answer, caller);
    this.options.ledger.add(exchange);
    return exchange;
  }
}

function pick(value: number): RequestKind {
  let remaining = value * MIX_TOTAL;
  for (const [kind, weight] of MIX) {
    remaining -= weight;
    if (remaining < 0) return kind;
  }
  return MIX[0][0];
}

function header(answer: HttpAnswer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function record(exchange: Exchange, answer: HttpAnswer, caller: Caller): void {
  exchange.status = answer.status;
  exchange.retryAfter = header(answer, 'retry-after');
  exchange.correlationEcho = header(answer, 'x-correlation-id');
  exchange.problemJson = (header(answer, 'content-type') ?? '').startsWith('application/problem+json');
  const nonce = header(answer, 'dpop-nonce');
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(answer.body) as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  exchange.code = typeof parsed?.['code'] === 'string' ? parsed['code'] : undefined;
  exchange.auditId = typeof parsed?.['auditId'] === 'string' ? parsed['auditId'] : undefined;
  if (answer.status === 200 && parsed) exchange.response = parsed;
  if (answer.status === 401 && exchange.code === 'use_dpop_nonce' && nonce && nonce !== caller.nonce) {
    exchange.challenged = true;
  }
  if (nonce) caller.nonce = nonce;
}
