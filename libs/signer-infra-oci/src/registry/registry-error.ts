/**
 * How a registry exchange failed. The kind decides what the release verdict becomes:
 * - `unavailable`: no usable answer (connection failure, timeout, 5xx, 429) — an outage, retried
 *   later; the verifier turns it into `upstream_unavailable`, never into a verdict;
 * - `refused`: the registry answered and will not serve us (401/403 after authenticating, another
 *   4xx, an unusable redirect or referrers response) — a definitive `registry_error` verdict;
 * - `not_found`: 404;
 * - `too_large`: the body exceeds the limit set for it;
 * - `integrity`: the bytes do not hash to the digest that was asked for.
 */
export type RegistryErrorKind = 'unavailable' | 'refused' | 'not_found' | 'too_large' | 'integrity';

export interface RegistryErrorOptions {
  status?: number;
  cause?: unknown;
}

/** A failed registry exchange. Messages name URLs and statuses only, never credentials or tokens. */
export class RegistryError extends Error {
  readonly kind: RegistryErrorKind;
  readonly status?: number;

  constructor(kind: RegistryErrorKind, message: string, options: RegistryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistryError';
    this.kind = kind;
    this.status = options.status;
  }
}

export function isRegistryError(value: unknown, ...kinds: RegistryErrorKind[]): value is RegistryError {
  return value instanceof RegistryError && (kinds.length === 0 || kinds.includes(value.kind));
}

/** The error for an HTTP status that is neither success nor handled by the caller. */
export function statusError(status: number, what: string): RegistryError {
  if (status === 404) return new RegistryError('not_found', `${what}: expected 200, got 404`, { status });
  const kind = status === 429 || status >= 500 ? 'unavailable' : 'refused';
  return new RegistryError(kind, `${what}: expected 200, got ${status}`, { status });
}
