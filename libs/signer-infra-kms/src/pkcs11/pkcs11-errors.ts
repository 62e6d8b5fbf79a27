/**
 * Return values after which the session cannot be trusted any more: it was closed under us, the
 * token logged out or went away, or the device failed. The pool discards such a session, and the
 * signature is tried again on a fresh one within the key's deadline.
 */
const SESSION_LOST = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_DEVICE_ERROR',
  'CKR_DEVICE_MEMORY',
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_OPERATION_ACTIVE',
  'CKR_OBJECT_HANDLE_INVALID',
  'CKR_KEY_HANDLE_INVALID',
  'CKR_GENERAL_ERROR',
]);

/** Raised when no session became free before the key's deadline. */
export class SessionWaitTimeoutError extends Error {
  constructor(waitedMs: number) {
    super(`no PKCS#11 session became free within ${waitedMs} ms`);
    this.name = 'SessionWaitTimeoutError';
  }
}

/**
 * The `CKR_*` name of a Cryptoki failure (pkcs11js puts it in the message and the number in
 * `code`), for logs and decisions; never anything from a template or a PIN.
 */
export function pkcs11ErrorName(error: unknown): string {
  if (error instanceof SessionWaitTimeoutError) return 'no free session';
  // Ours (a key object missing or unusable): its message names the object, never a secret.
  if (error instanceof Error && error.name === 'Pkcs11ObjectError') return error.message;
  const message = error instanceof Error ? error.message : '';
  if (/^CKR_[A-Z0-9_]+$/.test(message)) return message;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && code !== 0) return `CKR 0x${code.toString(16)}`;
  // Not from the module (a binding or programming error): its class name only, never its text.
  return error instanceof Error ? error.name : 'unknown error';
}

/** Whether the session that produced `error` must be closed and replaced. */
export function isSessionLost(error: unknown): boolean {
  return SESSION_LOST.has(pkcs11ErrorName(error));
}
