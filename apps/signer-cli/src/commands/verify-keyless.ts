import { X509Certificate } from 'node:crypto';
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import {
  ClientVerificationError,
  verifyDsseEnvelope,
  type InTotoStatement,
  type SignDsseResponse,
} from '@signer/client';
import { CliError, type CliIo } from '../cli-io';
import { readOptionFile } from '../files';
import type { Verified } from './verify';

export interface KeylessTrust {
  io: CliIo;
  /** A Sigstore TrustedRoot JSON: the Fulcio CA, and the TSA or log that timestamped the bundle. */
  trustedRootFile?: string;
  identity?: string;
  issuer?: string;
}

/**
 * A keyless response: the DSSE envelope against the leaf certificate's key (node:crypto), then the
 * Sigstore bundle with `@sigstore/verify` — leaf chained to the trusted Fulcio CA at a verified
 * time (`--trusted-root`). The Signer writes no timestamp (the Attestor adds the tlog entry later) and Fulcio leaves
 * live ten minutes, so a bundle without an RFC 3161 timestamp or tlog entry cannot prove its
 * certificate was valid when it signed: that is refused, never waved through.
 */
export async function verifyKeyless(response: SignDsseResponse, trust: KeylessTrust): Promise<Verified> {
  const leafPem = response.bundle.certificateChain?.[0];
  if (leafPem === undefined) throw failed('invalid_bundle', 'keyless bundle carries no certificateChain');
  const leaf = new X509Certificate(leafPem);
  const leafKey = leaf.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  if (!verifyDsseEnvelope(response.bundle.dsse, leafKey))
    throw failed('verification_failed', 'DSSE envelope signature does not verify with the leaf certificate');
  const bundle = parseBundle(response.sigstoreBundle);
  const material = bundle.verificationMaterial;
  const timestamps =
    (material.timestampVerificationData?.rfc3161Timestamps.length ?? 0) + material.tlogEntries.length;
  if (timestamps === 0) {
    throw failed(
      'timestamp_required',
      'keyless bundle has no RFC 3161 timestamp or transparency-log entry, so the short-lived ' +
        'certificate cannot be checked at signing time; verify the bundle once it is timestamped',
    );
  }
  const root = trustedRoot(trust);
  const ctlogs = Array.isArray(root['ctlogs']) && root['ctlogs'].length > 0 ? 1 : 0;
  const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root)), {
    tlogThreshold: 0,
    ctlogThreshold: ctlogs,
    timestampThreshold: 1,
  });
  try {
    verifier.verify(toSignedEntity(bundle), {
      ...(trust.identity ? { subjectAlternativeName: trust.identity } : {}),
      ...(trust.issuer ? { extensions: { issuer: trust.issuer } } : {}),
    });
  } catch (cause) {
    throw failed('verification_failed', `Sigstore bundle: ${(cause as Error).message}`);
  }
  return {
    mode: 'keyless',
    keyId: response.bundle.signingIdentity.keyId,
    statement: statementOf(response),
    identity: {
      subject: response.bundle.signingIdentity.subject,
      issuer: response.bundle.signingIdentity.issuer,
    },
  };
}

function failed(code: string, message: string): CliError {
  return new CliError(`verification failed: ${code}: ${message}`, 1, code);
}

function parseBundle(json: unknown): Bundle {
  try {
    return bundleFromJSON(json);
  } catch {
    throw failed('invalid_bundle', 'not a valid Sigstore bundle');
  }
}

// The Signer's `/keys` lists its Fulcio chain, but a chain alone cannot check the timestamp (that
// needs the TSA's or the log's key), so a keyless verification always takes a full trusted root.
function trustedRoot(trust: KeylessTrust): Record<string, unknown> {
  if (trust.trustedRootFile === undefined) {
    throw new CliError(
      'keyless bundle: pass --trusted-root (a Sigstore trusted root with the Fulcio CA of /keys ' +
        'fulcioChain and the timestamp authority or log that timestamped the bundle)',
      2,
      'usage',
    );
  }
  try {
    return JSON.parse(readOptionFile(trust.io, '--trusted-root', trust.trustedRootFile));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`--trusted-root ${trust.trustedRootFile}: not JSON`);
  }
}

function statementOf(response: SignDsseResponse): InTotoStatement {
  try {
    const statement = JSON.parse(Buffer.from(response.bundle.dsse.payload, 'base64').toString('utf8'));
    if (!Array.isArray(statement?.subject)) throw new Error('no subject');
    return statement as InTotoStatement;
  } catch (cause) {
    throw new ClientVerificationError('invalid_bundle', 'payload is not an in-toto Statement', { cause });
  }
}
