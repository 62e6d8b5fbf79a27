/**
 * A signing key that cannot be used as configured: a malformed key reference, an unreadable file,
 * an unsupported key type. Raised while the configuration is validated at start, so the process
 * refuses to start instead of failing on the first request. Messages name the key id, the
 * reference or the path — never key material.
 */
export class KeyConfigError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KeyConfigError';
  }
}
