import { randomBytes, randomUUID } from 'node:crypto';
import { AnonymousTraffic } from './anonymous-traffic';
import type { Caller, Tenant } from './callers';
import { forgedToken } from './callers';
import { header, readAnswer } from './exchange-answer';
import { CLIENT_TIMEOUT_MS, type Connections, type HttpAnswer } from './http-exchange';
import type { Exchange, Ledger, RequestKind } from './ledger';
import { pick, seededRandom } from './mix';
import type { SignerReplica } from './replicas';
import { BODY_LIMIT_BYTES, KEY_IDS, SIGN_PATH } from './topology';
import { sleep } from './wait';

/** Over `server.bodyLimitBytes`. */
const OVERSIZED_BYTES = BODY_LIMIT_BYTES + 50_000;
/** Padding that keeps a whole signing body just under `server.bodyLimitBytes`. */
const LARGE_PADDING_BYTES = BODY_LIMIT_BYTES - 48_000;

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

/** One worker's callers: ordinary tenants (or the quota tenant), and its caller of the bulk tenant. */
export interface Worker {
  callers: Caller[];
  quota: boolean;
  bulk?: Caller;
}

export interface TrafficOptions {
  ledger: Ledger;
  connections: Connections;
  replicas: SignerReplica[];
  scannerImageDigest: string;
  workers: Worker[];
  thinkMs: number;
  seed: number;
}

/**
 * Mixed traffic from concurrent callers, round-robin over the replicas: valid signings with every
 * key kind, idempotent retries (replayed and conflicting, each retry sent to another replica),
 * large idempotent bodies from one tenant, hostile requests with and without credentials
 * (including floods of huge unknown paths and of readiness checks), and one tenant hammering its
 * small plan. Every exchange goes to the ledger.
 */
export class Traffic {
  /** While set, quota workers stand still (the SIGKILL step needs the plan's slots to itself). */
  quotaPaused = false;
  private running = false;
  private loops: Array<Promise<void>> = [];
  private nextReplica = 0;
  private sequence = 0;
  private readonly anonymous: AnonymousTraffic;

  constructor(private readonly options: TrafficOptions) {
    this.anonymous = new AnonymousTraffic(options.ledger, options.connections);
  }

  start(): void {
    this.running = true;
    this.loops = this.options.workers.map((worker, index) =>
      this.loop(worker, seededRandom(this.options.seed + index)),
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Unknown routes at once on one replica, to be sent while the traffic is stopped. */
  budgetBurst(replica: SignerReplica, count: number): Promise<void> {
    return this.anonymous.budgetBurst(this.options.ledger.newOp(), replica, count);
  }

  /** Sends one valid signing for `caller` to `replica` (the SIGKILL step uses it to hold slots). */
  signOnce(caller: Caller, replica: SignerReplica, kind: RequestKind = 'sign-quota'): Promise<Exchange> {
    return this.sign({ op: this.options.ledger.newOp(), step: 0, kind, replica, caller }, KEY_IDS.aws);
  }

  private async loop(worker: Worker, random: () => number): Promise<void> {
    const { callers, quota } = worker;
    while (this.running) {
      if (quota && this.quotaPaused) {
        await sleep(20);
        continue;
      }
      let caller = callers[Math.floor(random() * callers.length)];
      let kind: RequestKind = quota ? 'sign-quota' : pick(random());
      // Large bodies with fresh keys fill a tenant's idempotency budget: only the bulk tenant sends
      // them, so the other tenants' retries keep their room.
      if (kind === 'large-idempotent') {
        if (worker.bulk) caller = worker.bulk;
        else kind = 'sign-file';
      }
      const others = callers.filter((c) => c.tenant.name !== caller.tenant.name && !c.tenant.quota);
      try {
        await this.run(kind, caller, others[Math.floor(random() * others.length)] ?? caller, random);
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

  private async run(kind: RequestKind, caller: Caller, other: Caller, random: () => number): Promise<void> {
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
      case 'large-idempotent': {
        const { body, digest } = this.signBody(caller.tenant, KEY_IDS.file, 'l'.repeat(LARGE_PADDING_BYTES));
        await this.send(shot, body, { subjectDigest: digest, idempotencyKey: `soak-large-${randomUUID()}` });
        return;
      }
      case 'bad-token-large': {
        const { body } = this.signBody(caller.tenant, KEY_IDS.file, 'b'.repeat(LARGE_PADDING_BYTES));
        await this.send(shot, body, { token: forgedToken(caller.token) });
        return;
      }
      case 'huge-path':
        await this.anonymous.hugePaths(op, replica, random);
        return;
      case 'wrong-method':
        await this.anonymous.wrongMethod(op, replica, random);
        return;
      case 'readyz-flood':
        await this.anonymous.readinessFlood(op, replica);
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
    if (answer) {
      readAnswer(exchange, answer);
      const nonce = header(answer, 'dpop-nonce');
      if (answer.status === 401 && exchange.code === 'use_dpop_nonce' && nonce && nonce !== caller.nonce)
        exchange.challenged = true;
      if (nonce) caller.nonce = nonce;
    }
    this.options.ledger.add(exchange);
    return exchange;
  }
}
