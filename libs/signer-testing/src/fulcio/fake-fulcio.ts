import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { Server, ServerResponse } from 'node:http';
import { systemClock, type Clock } from '@signer/core';
import { closeServer, startLoopbackServer } from '../kms/loopback-http';
import { FulcioTestCa } from './fulcio-test-ca';
import { TestOidcIssuer } from './test-oidc-issuer';

export interface FakeFulcioOptions {
  oidc: TestOidcIssuer;
  ca: FulcioTestCa;
  clock?: Clock;
  /** Leaf validity (Fulcio issues 10-minute certificates). */
  certificateLifetimeSeconds?: number;
  /** `embedded` (default): SCT inside the leaf; `detached`: returned beside a leaf without one. */
  sct?: 'embedded' | 'detached';
}

/** One `POST /api/v2/signingCert` the fake answered. */
export interface FulcioCall {
  status: number;
  outcome: 'issued' | 'injected-failure' | 'token-rejected' | 'pop-rejected' | 'bad-request';
  notBefore?: Date;
  notAfter?: Date;
}

class FulcioRefusal extends Error {
  constructor(
    readonly status: number,
    readonly outcome: FulcioCall['outcome'],
    message: string,
  ) {
    super(message);
  }
}

interface CertificateRequest {
  credentials?: { oidcIdentityToken?: unknown };
  publicKeyRequest?: { publicKey?: { algorithm?: unknown; content?: unknown }; proofOfPossession?: unknown };
}

/**
 * Fulcio's `POST /api/v2/signingCert` on loopback: the identity token is verified against the test
 * OIDC issuer (signature, issuer, audience `sigstore`, expiry), the proof of possession is verified
 * with the submitted key over the token's email (or subject), and the answer is a real chain from
 * {@link FulcioTestCa}. It counts calls and can be told to fail with a status (once or until cleared).
 */
export class FakeFulcio {
  readonly calls: FulcioCall[] = [];
  /** `GET /api/v2/configuration` requests answered (readiness probes). */
  configurationRequests = 0;
  private failures: number[] = [];
  private failAlways: number | undefined;
  private gate: Promise<void> | undefined;
  private held = 0;
  private readonly clock: Clock;
  private lifetimeSeconds: number;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: FakeFulcioOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.lifetimeSeconds = options.certificateLifetimeSeconds ?? 600;
  }

  static async start(options: FakeFulcioOptions): Promise<FakeFulcio> {
    // The handlers need the instance, which needs the bound server: a holder breaks the cycle.
    const self: { fake?: FakeFulcio } = {};
    const { server, port } = await startLoopbackServer((request, body, response) =>
      (self.fake as FakeFulcio).handle(request.method ?? '', request.url ?? '', body, response),
    );
    self.fake = new FakeFulcio(server, `http://127.0.0.1:${port}`, options);
    return self.fake;
  }

  /** The next `count` requests answer `status` (e.g. 503) before any check. */
  failNext(count: number, status = 503): void {
    this.failures.push(...Array.from({ length: count }, () => status));
  }

  /** Every certificate request answers `status` (e.g. 503) until called with `undefined`. */
  failAll(status: number | undefined): void {
    this.failAlways = status;
  }

  /**
   * Holds every request (after it is counted) until the returned `release` is called, so a test
   * decides when — on its own clock — Fulcio answers.
   */
  hold(): { release(): void } {
    let release = () => undefined as void;
    this.gate = new Promise<void>((resolve) => {
      release = () => {
        this.gate = undefined;
        resolve();
      };
    });
    return { release };
  }

  /** Requests currently held by {@link hold}. */
  waiting(): number {
    return this.held;
  }

  setCertificateLifetime(seconds: number): void {
    this.lifetimeSeconds = seconds;
  }

  issuedCount(): number {
    return this.calls.filter((c) => c.outcome === 'issued').length;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private async handle(method: string, path: string, body: Buffer, response: ServerResponse): Promise<void> {
    if (method === 'GET' && path === '/api/v2/configuration') {
      // Public configuration (readiness probes); not a certificate request, so not in `calls`.
      this.configurationRequests++;
      return reply(response, 200, {
        issuers: [{ issuerUrl: this.options.oidc.issuer, audience: 'sigstore', challengeClaim: 'email' }],
      });
    }
    const call: FulcioCall = { status: 200, outcome: 'issued' };
    this.calls.push(call);
    try {
      if (method !== 'POST' || path !== '/api/v2/signingCert')
        throw new FulcioRefusal(404, 'bad-request', 'not found');
      if (this.gate) {
        this.held++;
        await this.gate.finally(() => this.held--);
      }
      const injected = this.failures.shift() ?? this.failAlways;
      if (injected !== undefined) throw new FulcioRefusal(injected, 'injected-failure', 'injected failure');
      const answer = await this.issue(parse(body), call);
      reply(response, 200, answer);
    } catch (error) {
      const refusal =
        error instanceof FulcioRefusal ? error : new FulcioRefusal(500, 'bad-request', 'internal');
      call.status = refusal.status;
      call.outcome = refusal.outcome;
      reply(response, refusal.status, { code: refusal.status === 401 ? 16 : 3, message: refusal.message });
    }
  }

  private async issue(request: CertificateRequest, call: FulcioCall): Promise<Record<string, unknown>> {
    const token = request.credentials?.oidcIdentityToken;
    const content = request.publicKeyRequest?.publicKey?.content;
    const pop = request.publicKeyRequest?.proofOfPossession;
    if (typeof token !== 'string' || typeof content !== 'string' || typeof pop !== 'string') {
      throw new FulcioRefusal(400, 'bad-request', 'missing credentials, public key or proof of possession');
    }
    const now = this.clock.now();
    let claims;
    try {
      claims = await this.options.oidc.verify(token, Math.floor(now.getTime() / 1000));
    } catch {
      throw new FulcioRefusal(401, 'token-rejected', 'There was an error processing the identity token');
    }
    const email = typeof claims['email'] === 'string' ? claims['email'] : undefined;
    if (email !== undefined && claims['email_verified'] !== true) {
      throw new FulcioRefusal(400, 'token-rejected', 'email not verified');
    }
    const challenge = email ?? claims.sub ?? '';
    const publicKey = ecKey(content);
    if (!verify('sha256', Buffer.from(challenge, 'utf8'), publicKey, Buffer.from(pop, 'base64'))) {
      throw new FulcioRefusal(
        400,
        'pop-rejected',
        'The signature supplied in the request could not be verified',
      );
    }
    const san = email !== undefined ? { email } : uriIdentity(challenge);
    const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const notAfter = new Date(notBefore.getTime() + this.lifetimeSeconds * 1000);
    const embedded = (this.options.sct ?? 'embedded') === 'embedded';
    const chain = await this.options.ca.issue({
      publicKeySpki: publicKey.export({ type: 'spki', format: 'der' }),
      issuer: this.options.oidc.issuer,
      san,
      notBefore,
      notAfter,
      embedSct: embedded,
    });
    Object.assign(call, { notBefore, notAfter });
    return embedded
      ? { signedCertificateEmbeddedSct: { chain: { certificates: chain } } }
      : {
          signedCertificateDetachedSct: {
            chain: { certificates: chain },
            signedCertificateTimestamp: Buffer.from('detached').toString('base64'),
          },
        };
  }
}

function parse(body: Buffer): CertificateRequest {
  try {
    return JSON.parse(body.toString('utf8')) as CertificateRequest;
  } catch {
    throw new FulcioRefusal(400, 'bad-request', 'body is not JSON');
  }
}

function ecKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new FulcioRefusal(400, 'bad-request', 'public key does not parse');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new FulcioRefusal(400, 'bad-request', 'expected an ECDSA P-256 public key');
  }
  return key;
}

function uriIdentity(subject: string): { uri: string } {
  if (!/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(subject)) {
    throw new FulcioRefusal(400, 'bad-request', 'subject is not a URI identity');
  }
  return { uri: subject };
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.statusCode = status;
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify(body));
}
