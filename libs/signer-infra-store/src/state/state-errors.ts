import { SignerError } from '@signer/core';

/** Fail closed: a managed-state store that cannot answer is `upstream_unavailable` (upstream `state`). */
export function stateStoreError(message: string, cause?: unknown): SignerError {
  return new SignerError('upstream_unavailable', message, { upstream: 'state', cause, retryAfterSeconds: 1 });
}

/** A stored document that is not a managed state: refused rather than signed by. */
export function parseManagedState<T>(text: string, source: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw stateStoreError(`${source}: expected a JSON managed state`, cause);
  }
  const doc = parsed as { version?: unknown; keys?: unknown; trustAnchors?: unknown; defaults?: unknown };
  if (
    typeof doc !== 'object' ||
    doc === null ||
    !Number.isInteger(doc.version) ||
    !Array.isArray(doc.keys) ||
    !Array.isArray(doc.trustAnchors) ||
    typeof doc.defaults !== 'object'
  ) {
    throw stateStoreError(
      `${source}: expected a managed state document (version, keys, defaults, trustAnchors)`,
    );
  }
  return parsed as T;
}
