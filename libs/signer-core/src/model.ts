/** Domain model of the Signer. Plain data; no behaviour, no I/O. */

export type SigningMode = 'kms' | 'keyless';
export type ReturnBundle = 'dsse' | 'dsse+cert';
export type PoeFormat = 'jwt' | 'mtls';
export type BindingKind = 'dpop' | 'mtls';

export interface SubjectInput {
  name: string;
  digest: Record<string, string>;
}

/** The body of `POST /sign/dsse` after schema validation. */
export interface SignDsseRequest {
  subject: SubjectInput[];
  predicateType: string;
  predicate: Record<string, unknown>;
  scannerImageDigest: string;
  poe: { format: PoeFormat; value?: string };
  options?: { signingMode?: SigningMode; keyId?: string; returnBundle?: ReturnBundle };
}

/** A verified Authority operational token. Never carries the raw token. */
export interface VerifiedOpTok {
  subject: string;
  clientId?: string;
  tenant: string;
  installation?: string;
  scopes: readonly string[];
  jti?: string;
  issuedAt?: number;
  expiresAt: number;
  confirmation: { jkt?: string; x5tS256?: string };
  /** SHA-256 (base64url) of the raw token: a safe handle for caches and audit. */
  tokenHash: string;
}

/** How the caller proved possession of the token's key. */
export interface SenderBinding {
  kind: BindingKind;
  /** JWK thumbprint (DPoP) or certificate SHA-256 thumbprint (mTLS), base64url. */
  thumbprint: string;
}

export interface PlanLimits {
  qps: number;
  burst: number;
  concurrency: number;
  maxArtifactBytes: number;
  dailyCap: number;
}

/** The Licensing answer for one PoE, normalised (contract §4). */
export interface EntitlementClaims {
  active: boolean;
  revoked: boolean;
  licenseId: string;
  customerId?: string;
  tenant: string;
  installation?: string;
  plan: string;
  /** Epoch seconds. */
  expiresAt: number;
  validReleaseYear?: number;
  maxVersion?: string;
  limits?: Partial<PlanLimits>;
}

export type ReleaseSource = 'referrers-api' | 'tag-schema' | 'oci-layout';
export type ReleaseUntrustedReason =
  | 'no_signatures'
  | 'untrusted_key'
  | 'digest_mismatch'
  | 'conflicting_metadata'
  | 'malformed_manifest'
  | 'registry_error';

export interface ReleaseMetadata {
  version?: string;
  created?: string;
}

/** One signature found for the scanner image and what checking it showed. */
export interface SignatureEvidence {
  kind: 'cosign' | 'sigstore-bundle';
  manifestDigest: string;
  keyId?: string;
  verified: boolean;
  /** Why it did not verify (absent when verified). */
  problem?: Exclude<ReleaseUntrustedReason, 'no_signatures' | 'conflicting_metadata' | 'registry_error'>;
  metadata?: ReleaseMetadata;
}

export interface ReleaseVerdict {
  digest: string;
  trusted: boolean;
  source: ReleaseSource;
  signatures: SignatureEvidence[];
  release: ReleaseMetadata | null;
  reason: ReleaseUntrustedReason | null;
}

export interface PublicKeyInfo {
  keyId: string;
  algorithm: string;
  publicKeyPem: string;
  /** Keyless only: the certificate chain in use (PEM, leaf first); absent before the first one. */
  certificateChain?: string[];
}

/** Who signed: the key (kms/file) or the certificate identity (keyless). */
export interface SigningIdentity {
  issuer?: string;
  subject?: string;
  keyId: string;
  certExpiry?: string;
  certificateSerial?: string;
}

export interface SignatureResult {
  /** DER for ECDSA, raw for Ed25519. */
  signature: Buffer;
  /** Value of the DSSE `keyid`. */
  dsseKeyId: string;
  identity: SigningIdentity;
  /** PEM certificates, leaf first (keyless only). */
  certificateChain?: string[];
  publicKeyPem?: string;
}

export interface DsseSignature {
  keyid: string;
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: DsseSignature[];
}

export interface SignedBundle {
  dsse: DsseEnvelope;
  certificateChain?: string[];
  mode: SigningMode;
  signingIdentity: SigningIdentity;
}

export interface SignDsseResponse {
  bundle: SignedBundle;
  sigstoreBundle: Record<string, unknown>;
  policy: { plan: string; maxArtifactBytes: number; qpsRemaining: number };
  auditId: string;
}
