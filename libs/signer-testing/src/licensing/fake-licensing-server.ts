import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { DevLicensing, type PoeClaims } from '@signer/dev';

export const INTROSPECT_PATH = '/api/v1/licensing/introspect';

/** What the server does instead of answering truthfully (one request or all, until cleared). */
export type LicensingFault =
  /** Answers truthfully, but only after `delayMs`. */
  | { kind: 'slow'; delayMs: number }
  /** Answers this status (e.g. 500, 503, 429) with an optional `Retry-After`. */
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  /** Answers 200 with this body verbatim (not JSON, or JSON of the wrong shape). */
  | { kind: 'malformed'; body: string }
  /** Destroys the connection without a response (a connection error to the client). */
  | { kind: 'hang-up' };

export interface Introspection {
  format: string;
  /** SHA-256 (hex) of the presented PoE: tests count calls without keeping the secret. */
  poeSha256: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * A Stella Ops Licensing stand-in speaking the introspection wire protocol of contract §4 on
 * loopback: `POST` JSON `{ poe, format }` → the licence claims. It behaves like Licensing: it
 * issues PoE JWTs with a real key and verifies them on introspection, answers `{ active: false }`
 * for anything it did not issue, overlays its revocation list, and knows client-certificate
 * fingerprints bound to licences (`format: mtls`). It states `exp` as issued and does not judge
 * it, so the Signer's own expiry check is exercised. Faults (slow, 5xx, malformed, hang-up) and
 * an outage (`stop()`: connection refused) are switched on by tests.
 */
export class FakeLicensingServer {
  readonly introspections: Introspection[] = [];
  private readonly revoked = new Set<string>();
  private readonly certificates = new Map<string, PoeClaims & { exp: number }>();
  private readonly sockets = new Set<Socket>();
  private faults: LicensingFault[] = [];
  private stickyFault: LicensingFault | undefined;
  private server: Server | undefined;
  private port = 0;

  private constructor(readonly licensing: DevLicensing) {}

  static async start(licensing?: DevLicensing): Promise<FakeLicensingServer> {
    const fake = new FakeLicensingServer(licensing ?? (await DevLicensing.create()));
    await fake.listen();
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}${INTROSPECT_PATH}`;
  }

  /** Issues a PoE JWT (see {@link DevLicensing.mintPoe}). */
  issue(claims: PoeClaims = {}, options: { now?: number; lifetimeSeconds?: number } = {}): Promise<string> {
    return this.licensing.mintPoe(claims, options);
  }

  /** Binds a client certificate (DER) to licence claims, for `format: mtls` introspection. */
  bindCertificate(der: Buffer, claims: PoeClaims, exp: number): void {
    this.certificates.set(createHash('sha256').update(der).digest('base64url'), { ...claims, exp });
  }

  revoke(licenseId: string): void {
    this.revoked.add(licenseId);
  }

  /** The next `times` introspections suffer `fault`. */
  failNext(fault: LicensingFault, times = 1): void {
    for (let i = 0; i < times; i += 1) this.faults.push(fault);
  }

  /** Every introspection suffers `fault` until it is cleared with `undefined`. */
  failAll(fault: LicensingFault | undefined): void {
    this.stickyFault = fault;
  }

  /** How many introspections asked about this PoE value. */
  callsFor(poe: string): number {
    const hash = sha256(poe);
    return this.introspections.filter((call) => call.poeSha256 === hash).length;
  }

  /** Stops listening and drops every connection: clients now get connection refused. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    if (!this.server) await this.listen();
  }

  private async listen(): Promise<void> {
    const server = createServer((request, response) => void this.handle(request, response));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: this.port }, () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    if (request.method !== 'POST' || request.url !== INTROSPECT_PATH)
      return send(response, 404, { error: 'not_found' });
    if (!/^application\/json\b/.test(request.headers['content-type'] ?? ''))
      return send(response, 415, { error: 'unsupported_media_type' });
    let question: { poe?: unknown; format?: unknown };
    try {
      question = JSON.parse(body) as typeof question;
    } catch {
      return send(response, 400, { error: 'invalid_request' });
    }
    if (typeof question.poe !== 'string' || (question.format !== 'jwt' && question.format !== 'mtls'))
      return send(response, 400, { error: 'invalid_request' });
    this.introspections.push({ format: question.format, poeSha256: sha256(question.poe) });

    const fault = this.faults.shift() ?? this.stickyFault;
    if (fault?.kind === 'hang-up') return void request.socket.destroy();
    if (fault?.kind === 'status') {
      if (fault.retryAfter !== undefined) response.setHeader('retry-after', fault.retryAfter);
      return send(response, fault.status, fault.body ?? { error: 'unavailable' });
    }
    if (fault?.kind === 'malformed') return send(response, 200, fault.body);
    const answer = await this.answer(question.poe, question.format);
    if (fault?.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (!response.destroyed) send(response, 200, answer);
  }

  private async answer(poe: string, format: 'jwt' | 'mtls'): Promise<Record<string, unknown>> {
    let claims: Record<string, unknown> | undefined;
    if (format === 'mtls') {
      claims = this.certificates.get(poe);
    } else {
      try {
        // Licensing judges its own signature; it reports exp and lets the caller judge time.
        const { payload } = await jwtVerify(poe, createLocalJWKSet(this.licensing.jwks()), {
          currentDate: new Date(0),
        });
        claims = payload;
      } catch {
        claims = undefined;
      }
    }
    if (!claims) return { active: false };
    const { iss: _iss, iat: _iat, ...rest } = claims;
    const licenseId = typeof rest['license_id'] === 'string' ? rest['license_id'] : '';
    return this.revoked.has(licenseId) ? { ...rest, revoked: true } : rest;
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(text);
}
