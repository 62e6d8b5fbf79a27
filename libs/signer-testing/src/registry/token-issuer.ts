import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPKCS8, SignJWT, type CryptoKey } from 'jose';

export interface TokenIssuerUser {
  password: string;
  /** Actions this user may be granted on any repository (`pull`, `push`). */
  actions: string[];
}

export interface RegistryTokenIssuerOptions {
  service: string;
  issuer: string;
  users: Record<string, TokenIssuerUser>;
  lifetimeSeconds?: number;
}

/** `issue`: tokens as asked; `refuse`: 401 to everyone; `wrong-key`: tokens the registry cannot verify. */
export type TokenIssuerMode = 'issue' | 'refuse' | 'wrong-key';

export interface RecordedTokenRequest {
  user?: string;
  scopes: string[];
  status: number;
}

interface SigningKey {
  key: CryptoKey;
  certificateDer: string;
  certificatePath: string;
}

/** A self-signed P-256 certificate made by openssl, as an operator would for a registry token service. */
async function signingKey(dir: string, name: string): Promise<SigningKey> {
  const keyPath = join(dir, `${name}.key.pem`);
  const certificatePath = join(dir, `${name}.cert.pem`);
  const result = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certificatePath,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,digitalSignature,keyCertSign',
  ]);
  if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr.toString('utf8')}`);
  const pem = readFileSync(certificatePath, 'utf8');
  return {
    key: await importPKCS8(readFileSync(keyPath, 'utf8'), 'ES256'),
    certificateDer: pem.replace(/-----[A-Z ]+-----|\s/g, ''),
    certificatePath,
  };
}

function basicUser(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * A registry token service (distribution token auth spec) on a loopback port: basic credentials in,
 * an ES256 JWT with an `x5c` header and the granted `access` out. The registry trusts it through
 * the certificate at `certificatePath` (`auth.token.rootcertbundle`).
 *
 * @see https://distribution.github.io/distribution/spec/auth/jwt/
 */
export class RegistryTokenIssuer {
  mode: TokenIssuerMode = 'issue';
  readonly requests: RecordedTokenRequest[] = [];

  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    private readonly trusted: SigningKey,
    private readonly stranger: SigningKey,
    private readonly options: RegistryTokenIssuerOptions,
    readonly realm: string,
  ) {}

  static async start(options: RegistryTokenIssuerOptions): Promise<RegistryTokenIssuer> {
    const dir = mkdtempSync(join(tmpdir(), 'token-issuer-'));
    const trusted = await signingKey(dir, 'token-issuer');
    const stranger = await signingKey(dir, 'stranger');
    const holder: { issuer?: RegistryTokenIssuer } = {};
    const server = createServer((req, res) => {
      void holder.issuer?.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    holder.issuer = new RegistryTokenIssuer(
      server,
      dir,
      trusted,
      stranger,
      options,
      `http://127.0.0.1:${port}/token`,
    );
    return holder.issuer;
  }

  /** The certificate the registry is configured to trust. */
  get certificatePath(): string {
    return this.trusted.certificatePath;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.realm);
    const scopes = url.searchParams.getAll('scope');
    const credentials = basicUser(req.headers.authorization);
    const account = credentials ? this.options.users[credentials.user] : undefined;
    const known = account !== undefined && account.password === credentials?.password;
    if (this.mode === 'refuse' || !known || url.searchParams.get('service') !== this.options.service) {
      this.requests.push({ user: credentials?.user, scopes, status: 401 });
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    const lifetime = this.options.lifetimeSeconds ?? 300;
    const now = Math.floor(Date.now() / 1000);
    const signing = this.mode === 'wrong-key' ? this.stranger : this.trusted;
    const token = await new SignJWT({ access: scopes.map((scope) => grant(scope, account.actions)) })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [signing.certificateDer] })
      .setIssuer(this.options.issuer)
      .setSubject(credentials?.user ?? '')
      .setAudience(this.options.service)
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + lifetime)
      .setJti(randomUUID())
      .sign(signing.key);
    this.requests.push({ user: credentials?.user, scopes, status: 200 });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: lifetime,
        issued_at: new Date().toISOString(),
      }),
    );
  }
}

/** `repository:<name>:<actions>` → the access entry, with only the actions the user holds. */
function grant(scope: string, allowed: string[]): { type: string; name: string; actions: string[] } {
  const [type, ...rest] = scope.split(':');
  const actions = (rest.pop() ?? '').split(',').filter((a) => allowed.includes(a));
  return { type, name: rest.join(':'), actions };
}
