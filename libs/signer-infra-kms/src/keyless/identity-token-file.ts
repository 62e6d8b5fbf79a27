import { readFile } from 'node:fs/promises';
import { SignerError, systemClock, type Clock } from '@signer/core';

/** The Signer's own OIDC identity token, as Fulcio needs it. */
export interface IdentityToken {
  /** The raw JWT; never logged, never put in an error. */
  token: string;
  /** What the proof of possession signs: a verified `email`, else `sub` (Fulcio's rule). */
  challenge: string;
}

export interface IdentityTokenFileOptions {
  path: string;
  clock?: Clock;
}

const fail = (message: string, cause?: unknown) =>
  new SignerError('upstream_unavailable', `keyless identity token: ${message}`, {
    upstream: 'fulcio',
    ...(cause === undefined ? {} : { cause }),
  });

/**
 * `signing.keyless.identityTokenFile`. Read afresh at every certificate request, so a token the
 * platform rotates in place (a projected service-account token, a CI token file) is picked up by the
 * next rotation without a restart. The token is only decoded here — Fulcio verifies it — but an
 * expired or malformed token is refused before any call, with a message that never quotes it.
 */
export class IdentityTokenFile {
  private readonly clock: Clock;

  constructor(private readonly options: IdentityTokenFileOptions) {
    this.clock = options.clock ?? systemClock;
  }

  async read(): Promise<IdentityToken> {
    let token: string;
    try {
      token = (await readFile(this.options.path, 'utf8')).trim();
    } catch (cause) {
      throw fail(`cannot read ${this.options.path}`, cause);
    }
    const claims = decodeClaims(token);
    if (!claims) throw fail(`${this.options.path} does not hold a JWT`);
    if (typeof claims.exp === 'number' && claims.exp * 1000 <= this.clock.now().getTime()) {
      throw fail(`the token in ${this.options.path} has expired`);
    }
    if (typeof claims.email === 'string') {
      if (claims.email_verified !== true) throw fail('the token has an email that is not verified');
      return { token, challenge: claims.email };
    }
    if (typeof claims.sub === 'string' && claims.sub.length > 0) return { token, challenge: claims.sub };
    throw fail('the token has neither a verified email nor a subject');
  }
}

function decodeClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
