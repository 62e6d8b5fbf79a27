import { discard, exchange, readBody } from './http-exchange';
import { basicAuthorization, type RegistryCredential } from './registry-credentials';
import { RegistryError, statusError } from './registry-error';
import { parseChallenges, type AuthChallenge } from './www-authenticate';

/** Token responses are a few kilobytes; this bounds a hostile token endpoint. */
export const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
/** The distribution token spec's default lifetime when `expires_in` is absent. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 60;
/** A token is dropped this long before it expires, so it is never presented stale. */
export const TOKEN_EXPIRY_MARGIN_SECONDS = 10;

export interface RegistryAuthOptions {
  /** The registry's base URL; basic credentials and static tokens go to this origin only. */
  registryUrl: URL;
  credential?: RegistryCredential;
  /** Milliseconds since the epoch; pinned by tests. */
  now?: () => number;
}

interface CachedToken {
  authorization: string;
  expiresAt: number;
}

/**
 * Registry authentication: anonymous, basic, a static bearer token, or the bearer-token challenge
 * flow (`WWW-Authenticate: Bearer realm=…,service=…,scope=…` → token endpoint → retry), with tokens
 * cached per scope until shortly before they expire. Tokens never appear in errors or logs.
 *
 * @see https://distribution.github.io/distribution/spec/auth/token/
 */
export class RegistryAuth {
  private readonly tokens = new Map<string, CachedToken>();
  private basicChallenged = false;
  private readonly now: () => number;

  constructor(private readonly options: RegistryAuthOptions) {
    this.now = options.now ?? Date.now;
  }

  /** What to send before any challenge: a static token, basic once asked for, or a cached token. */
  preemptive(scope: string): string | undefined {
    const { credential } = this.options;
    if (credential && 'token' in credential) return `Bearer ${credential.token}`;
    if (this.basicChallenged && credential) return basicAuthorization(credential);
    const cached = this.tokens.get(scope);
    if (cached && cached.expiresAt > this.now()) return cached.authorization;
    this.tokens.delete(scope);
    return undefined;
  }

  /** Answers a 401 challenge; the result is sent once on the retry. */
  async answer(header: string | null, scope: string, signal: AbortSignal): Promise<string> {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const { credential } = this.options;
    if (credential && 'token' in credential) {
      throw new RegistryError('refused', 'registry refused the configured token', { status: 401 });
    }
    if (bearer) return this.fetchToken(bearer, scope, signal);
    if (challenges.some((c) => c.scheme === 'basic') && credential) {
      this.basicChallenged = true;
      return basicAuthorization(credential);
    }
    throw new RegistryError('refused', 'registry asked for credentials this Signer does not have', {
      status: 401,
    });
  }

  private async fetchToken(challenge: AuthChallenge, scope: string, signal: AbortSignal): Promise<string> {
    const realm = this.realmUrl(challenge.params.realm);
    const wanted = challenge.params.scope ?? scope;
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', wanted);
    const { credential } = this.options;
    const { response } = await exchange({
      url: realm,
      headers: { accept: 'application/json' },
      authorization: credential && 'username' in credential ? basicAuthorization(credential) : undefined,
      signal,
    });
    if (response.status !== 200) {
      await discard(response);
      const error = statusError(response.status, `token endpoint ${realm.origin}${realm.pathname}`);
      // A 404 from the token service is a misconfiguration, not a missing artefact.
      throw error.kind === 'not_found' ? new RegistryError('refused', error.message, { status: 404 }) : error;
    }
    const body = await readBody(response, MAX_TOKEN_RESPONSE_BYTES, 'token response', signal);
    const token = parseTokenResponse(body);
    if (!token)
      throw new RegistryError('refused', 'token endpoint: expected JSON with token or access_token');
    const lifetime = Math.max(token.expiresIn - TOKEN_EXPIRY_MARGIN_SECONDS, 0);
    const cached = { authorization: `Bearer ${token.value}`, expiresAt: this.now() + lifetime * 1000 };
    this.tokens.set(scope, cached);
    return cached.authorization;
  }

  /**
   * The realm the registry named. Passwords go there (as every registry client does), so it must be
   * https — unless the registry itself is plain http, where the operator already accepted that.
   */
  private realmUrl(realm: string | undefined): URL {
    let url: URL;
    try {
      url = new URL(realm ?? '');
    } catch {
      throw new RegistryError('refused', 'bearer challenge: expected an absolute realm URL');
    }
    const plainAllowed = this.options.registryUrl.protocol === 'http:';
    if (url.protocol !== 'https:' && !(plainAllowed && url.protocol === 'http:')) {
      throw new RegistryError('refused', `bearer challenge: expected an https realm, got ${url.protocol}`);
    }
    return url;
  }
}

function parseTokenResponse(body: Buffer): { value: string; expiresIn: number } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { token, access_token: accessToken, expires_in: expiresIn } = parsed as Record<string, unknown>;
  const value =
    typeof token === 'string' && token ? token : typeof accessToken === 'string' ? accessToken : '';
  // Header-safe visible ASCII only: anything else cannot be sent back and hints at a hostile answer.
  if (!/^[\x21-\x7e]{1,8192}$/.test(value)) return undefined;
  const lifetime =
    typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0
      ? expiresIn
      : DEFAULT_TOKEN_LIFETIME_SECONDS;
  return { value, expiresIn: lifetime };
}
