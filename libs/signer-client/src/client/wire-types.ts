/**
 * Request and response bodies of the Signer HTTP API (contract §2), declared here rather than
 * imported so a caller never depends on server code.
 */

export type SigningMode = 'kms' | 'keyless';
export type ReturnBundle = 'dsse' | 'dsse+cert';

export interface SubjectInput {
  name: string;
  /** Algorithm → lowercase hex; `sha256` is required by the Signer. */
  digest: Record<string, string>;
}

/** Body of `POST /api/v1/signer/sign/dsse` (contract §2.1). */
export interface SignDsseRequest {
  subject: SubjectInput[];
  predicateType: string;
  predicate: Record<string, unknown>;
  /** `sha256:<64 lowercase hex>` of the scanner image that produced the content. */
  scannerImageDigest: string;
  poe: { format: 'jwt'; value: string } | { format: 'mtls' };
  options?: { signingMode?: SigningMode; keyId?: string; returnBundle?: ReturnBundle };
}

export interface DsseSignature {
  keyid: string;
  sig: string;
}

export interface SignedDsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: DsseSignature[];
}

export interface SigningIdentity {
  issuer?: string;
  subject?: string;
  keyId: string;
  certExpiry?: string;
  /** Keyless: the leaf certificate's serial number (hex). */
  certificateSerial?: string;
}

export interface SignedBundle {
  dsse: SignedDsseEnvelope;
  /** PEM certificates, leaf first (keyless only). */
  certificateChain?: string[];
  mode: SigningMode;
  signingIdentity: SigningIdentity;
}

/** `200` body of `POST /sign/dsse`. */
export interface SignDsseResponse {
  bundle: SignedBundle;
  /** The same signature as a Sigstore bundle v0.3 (JSON). */
  sigstoreBundle: Record<string, unknown>;
  policy: { plan: string; maxArtifactBytes: number; qpsRemaining: number };
  auditId: string;
}

/** One key listed at `GET /api/v1/signer/keys` (contract §2.3). */
export interface PublicKeyInfo {
  /** The DSSE `keyid`: `sha256:<hex>` of the SPKI DER (contract §11; older Signers: the label). */
  keyId: string;
  algorithm: string;
  publicKeyPem: string;
  /** Since contract §11 (key lifecycle): the operator label and the key's lifecycle. */
  name?: string;
  /** A `revoked` key's signatures must not be accepted. */
  state?: 'pending' | 'active' | 'retired' | 'revoked';
  validFrom?: string;
  validUntil?: string;
  revokedAt?: string;
  revocationReason?: string;
  profile?: string;
  history?: Array<{ state: string; at: string; ceremonyId?: string }>;
  isDefault?: boolean;
  defaultFor?: string[];
}

/** A release key the Signer trusts for scanner images (contract §11). */
export interface TrustAnchorInfo {
  keyId: string;
  publicKeyPem: string;
  label?: string;
  addedAt: string;
}

export interface SignerKeysResponse {
  keys: PublicKeyInfo[];
  /** Fulcio chain (PEM) when keyless signing is configured. */
  fulcioChain?: string[];
  stateVersion?: number;
  trustAnchors?: TrustAnchorInfo[];
}

export type ReleaseSource = 'referrers-api' | 'tag-schema' | 'oci-layout';

/** `200` body of `GET /api/v1/signer/verify/referrers` (contract §2.2): trusted or not. */
export interface ReleaseVerdict {
  digest: string;
  trusted: boolean;
  source: ReleaseSource;
  signatures: {
    kind: string;
    manifestDigest: string;
    keyId?: string;
    verified: boolean;
    problem?: string;
    /** The release metadata this signature's payload carries. */
    metadata?: { version?: string; created?: string };
  }[];
  release: { version?: string; created?: string } | null;
  reason: string | null;
}

/** An RFC 9457 problem as the Signer sends it, with its `code` and `auditId` members. */
export interface SignerProblem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  auditId?: string;
  instance?: string;
}
