import type { AuditRecord, ChainedAuditRecord } from '../audit/audit-record';
import { SIGNER_ERROR_CODES } from '../errors';
import type {
  DsseEnvelope,
  DsseSignature,
  SignDsseRequest,
  SignedBundle,
  SigningIdentity,
  SubjectInput,
} from '../model';
import type { GateName } from '../ports/pipeline-observer';
import type { InTotoStatement } from '../statement/statement';

/** Every member of `T`, spelled out: the compiler refuses the object when a member is added to `T`. */
type Members<T> = Record<keyof Required<T>, true>;

type Nested<T, K extends keyof T> = NonNullable<T[K]>;

const statement: Members<InTotoStatement> = {
  _type: true,
  subject: true,
  predicateType: true,
  predicate: true,
};
const subject: Members<SubjectInput> = { name: true, digest: true };
const request: Members<SignDsseRequest> = {
  subject: true,
  predicateType: true,
  predicate: true,
  scannerImageDigest: true,
  poe: true,
  options: true,
};
const poe: Members<SignDsseRequest['poe']> = { format: true, value: true };
const options: Members<Nested<SignDsseRequest, 'options'>> = {
  signingMode: true,
  keyId: true,
  returnBundle: true,
};
const envelope: Members<DsseEnvelope> = { payloadType: true, payload: true, signatures: true };
const signature: Members<DsseSignature> = { keyid: true, sig: true };
const bundle: Members<SignedBundle> = {
  dsse: true,
  certificateChain: true,
  mode: true,
  signingIdentity: true,
};
const identity: Members<SigningIdentity> = {
  issuer: true,
  subject: true,
  keyId: true,
  certExpiry: true,
  certificateSerial: true,
};
const record: Members<ChainedAuditRecord> = {
  auditId: true,
  time: true,
  correlationId: true,
  route: true,
  outcome: true,
  tenant: true,
  installation: true,
  caller: true,
  binding: true,
  licenseId: true,
  plan: true,
  predicateType: true,
  subjectDigests: true,
  scannerImageDigest: true,
  gates: true,
  mode: true,
  keyId: true,
  certificateSerial: true,
  bundleSha256: true,
  latencyMs: true,
  replayOf: true,
  supersedes: true,
  summary: true,
  ceremony: true,
  prevHash: true,
  hash: true,
};
const caller: Members<Nested<AuditRecord, 'caller'>> = { sub: true, clientId: true, tokenJti: true };
const binding: Members<Nested<AuditRecord, 'binding'>> = { kind: true, thumbprint: true };
const summary: Members<Nested<AuditRecord, 'summary'>> = { refusals: true, outcomes: true, until: true };
const ceremony: Members<Nested<AuditRecord, 'ceremony'>> = {
  id: true,
  event: true,
  operation: true,
  target: true,
  approvals: true,
  threshold: true,
};
const gates: Record<GateName, true> = {
  body: true,
  optok: true,
  binding: true,
  scope: true,
  idempotency: true,
  poe: true,
  release: true,
  predicate: true,
  size: true,
  quota: true,
  sign: true,
  audit: true,
};

/**
 * The member names of the Signer's own documents — statement, request, DSSE envelope, bundle,
 * audit record (with its gates and summary counts) — plus the digest algorithms a subject may
 * name. Canonical JSON always has these on its fast path; names a caller chooses share a bounded
 * remainder.
 */
export const SCHEMA_MEMBER_NAMES: readonly string[] = [
  ...new Set([
    ...[statement, subject, request, poe, options, envelope, signature, bundle, identity].flatMap(
      Object.keys,
    ),
    ...[record, caller, binding, summary, ceremony, gates].flatMap(Object.keys),
    ...SIGNER_ERROR_CODES,
    'sha256',
    'sha384',
    'sha512',
  ]),
];
