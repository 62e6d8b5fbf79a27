import type { PublicKeyInfo, SignDsseResponse } from './client/wire-types';
import { decodeBase64Strict } from './dsse';
import { ClientVerificationError } from './errors';
import { verifyDsseEnvelope } from './verify-dsse-envelope';
import { verifySigstoreBundleWithKey } from './verify-sigstore-bundle';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

export interface InTotoStatement {
  _type: string;
  subject: { name: string; digest: Record<string, string> }[];
  predicateType: string;
  predicate: Record<string, unknown>;
}

export interface VerifiedBundle {
  /** The key that verified both signatures. */
  keyId: string;
  statement: InTotoStatement;
}

/** The key material `verifyBundle` needs: what `GET /keys` lists, or one PEM trusted out of band. */
export type VerificationKey = Pick<PublicKeyInfo, 'keyId' | 'publicKeyPem'>;

/**
 * Verifies a kms-mode `POST /sign/dsse` response offline: the DSSE envelope with node:crypto, the
 * `sigstoreBundle` with `@sigstore/verify` (key hint = `signingIdentity.keyId`), that both carry
 * the same Statement bytes, and that those bytes are an in-toto Statement v1. Resolves with the
 * Statement; rejects with {@link ClientVerificationError} on any doubt.
 */
export async function verifyBundle(
  response: SignDsseResponse,
  keys: readonly VerificationKey[],
): Promise<VerifiedBundle> {
  const bundle = response?.bundle;
  if (
    typeof bundle?.dsse !== 'object' ||
    bundle.dsse === null ||
    typeof bundle.signingIdentity?.keyId !== 'string'
  ) {
    throw new ClientVerificationError(
      'invalid_bundle',
      'expected bundle.dsse and bundle.signingIdentity.keyId',
    );
  }
  if (bundle.mode !== 'kms') {
    throw new ClientVerificationError(
      'invalid_bundle',
      `expected a kms-mode bundle, got ${String(bundle.mode)}`,
    );
  }
  const keyId = bundle.signingIdentity.keyId;
  const key = keys.find((candidate) => candidate.keyId === keyId);
  if (key === undefined)
    throw new ClientVerificationError('key_mismatch', `no public key for keyId "${keyId}"`);

  if (!verifyDsseEnvelope(bundle.dsse, key.publicKeyPem)) {
    throw new ClientVerificationError('verification_failed', 'DSSE envelope signature does not verify');
  }
  await verifySigstoreBundleWithKey(response.sigstoreBundle, {
    keyHint: keyId,
    publicKeyPem: key.publicKeyPem,
  });
  const payload = samePayload(bundle.dsse, response.sigstoreBundle);
  return { keyId, statement: parseStatement(bundle.dsse.payloadType, payload) };
}

// Both signatures verified, but each could cover different bytes; a caller must be able to trust
// that the Statement it reads is the one the Sigstore tooling (and later the Attestor) sees.
function samePayload(dsse: { payloadType: string; payload: string }, sigstoreBundle: unknown): Buffer {
  const envelope = (
    sigstoreBundle as { dsseEnvelope?: { payload?: unknown; payloadType?: unknown } } | undefined
  )?.dsseEnvelope;
  const ours = decodeBase64Strict(dsse.payload);
  const theirs = typeof envelope?.payload === 'string' ? decodeBase64Strict(envelope.payload) : undefined;
  if (
    ours === undefined ||
    theirs === undefined ||
    !ours.equals(theirs) ||
    envelope?.payloadType !== dsse.payloadType
  ) {
    throw new ClientVerificationError(
      'invalid_bundle',
      'the DSSE envelope and the Sigstore bundle carry different payloads',
    );
  }
  return ours;
}

function parseStatement(payloadType: string, payload: Buffer): InTotoStatement {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new ClientVerificationError(
      'invalid_bundle',
      `expected payloadType ${IN_TOTO_PAYLOAD_TYPE}, got ${payloadType}`,
    );
  }
  let statement: Partial<InTotoStatement>;
  try {
    statement = JSON.parse(payload.toString('utf8')) as Partial<InTotoStatement>;
  } catch (cause) {
    throw new ClientVerificationError('invalid_bundle', 'payload is not JSON', { cause });
  }
  if (
    statement?._type !== IN_TOTO_STATEMENT_V1 ||
    !Array.isArray(statement.subject) ||
    typeof statement.predicateType !== 'string'
  ) {
    throw new ClientVerificationError(
      'invalid_bundle',
      `expected an in-toto Statement v1, got _type ${String(statement?._type)}`,
    );
  }
  return statement as InTotoStatement;
}
