import { SIGNER_ERROR_CODES } from '@signer/core';
import { Type } from '@sinclair/typebox';

/** Response bodies (contract §2), as JSON Schema. Used by the OpenAPI document and by the tests that validate real responses. */
const Digest = Type.String({ pattern: '^sha256:[0-9a-f]{64}$' });

export const SigningIdentitySchema = Type.Object({
  issuer: Type.Optional(Type.String()),
  subject: Type.Optional(Type.String()),
  keyId: Type.String(),
  certExpiry: Type.Optional(Type.String({ description: 'RFC 3339 UTC' })),
  certificateSerial: Type.Optional(Type.String()),
});

export const SignDsseResponseSchema = Type.Object(
  {
    bundle: Type.Object({
      dsse: Type.Object({
        payloadType: Type.Literal('application/vnd.in-toto+json'),
        payload: Type.String({
          contentEncoding: 'base64',
          description: 'the canonical (RFC 8785) in-toto Statement v1',
        }),
        signatures: Type.Array(
          Type.Object({ keyid: Type.String(), sig: Type.String({ contentEncoding: 'base64' }) }),
          { minItems: 1 },
        ),
      }),
      certificateChain: Type.Optional(Type.Array(Type.String({ description: 'PEM, leaf first' }))),
      mode: Type.Union([Type.Literal('kms'), Type.Literal('keyless')]),
      signingIdentity: SigningIdentitySchema,
    }),
    sigstoreBundle: Type.Object(
      { mediaType: Type.Literal('application/vnd.dev.sigstore.bundle.v0.3+json') },
      {
        additionalProperties: true,
        description: 'Sigstore bundle v0.3 with DSSE content and no tlog entries',
      },
    ),
    policy: Type.Object({
      plan: Type.String(),
      maxArtifactBytes: Type.Integer(),
      qpsRemaining: Type.Integer({ minimum: 0 }),
    }),
    auditId: Type.String(),
  },
  { additionalProperties: false },
);

export const ReleaseVerdictSchema = Type.Object({
  digest: Digest,
  trusted: Type.Boolean(),
  source: Type.Union([Type.Literal('referrers-api'), Type.Literal('tag-schema'), Type.Literal('oci-layout')]),
  signatures: Type.Array(
    Type.Object(
      {
        kind: Type.Union([Type.Literal('cosign'), Type.Literal('sigstore-bundle')]),
        manifestDigest: Type.String(),
        keyId: Type.Optional(Type.String()),
        verified: Type.Boolean(),
        problem: Type.Optional(Type.String()),
        metadata: Type.Optional(
          Type.Object({ version: Type.Optional(Type.String()), created: Type.Optional(Type.String()) }),
        ),
      },
      { additionalProperties: true },
    ),
  ),
  release: Type.Union([
    Type.Object({ version: Type.Optional(Type.String()), created: Type.Optional(Type.String()) }),
    Type.Null(),
  ]),
  reason: Type.Union([Type.String(), Type.Null()]),
});

const Rfc3339 = Type.String({ description: 'RFC 3339 UTC' });

const StateTransitionSchema = Type.Object({
  state: Type.Union(
    ['pending', 'active', 'retired', 'revoked', 'added', 'removed'].map((s) => Type.Literal(s)),
  ),
  at: Rfc3339,
  ceremonyId: Type.Optional(Type.String()),
});

/** One managed key (contract §11). `keyId` is the DSSE `keyid`: `sha256:<hex>` of the SPKI DER. */
export const ManagedKeyInfoSchema = Type.Object({
  keyId: Digest,
  name: Type.String({ description: 'operator label; requests may name a key by label or keyId' }),
  algorithm: Type.String(),
  publicKeyPem: Type.String(),
  state: Type.Union(
    ['pending', 'active', 'retired', 'revoked'].map((s) => Type.Literal(s)),
    {
      description: 'verifiers must refuse signatures of a revoked key',
    },
  ),
  validFrom: Rfc3339,
  validUntil: Type.Optional(Rfc3339),
  revokedAt: Type.Optional(Rfc3339),
  revocationReason: Type.Optional(Type.String()),
  profile: Type.String(),
  history: Type.Array(StateTransitionSchema),
  isDefault: Type.Boolean({ description: 'the installation default' }),
  defaultFor: Type.Array(Type.String(), { description: 'plans whose default this key is' }),
});

export const KeysResponseSchema = Type.Object({
  keys: Type.Array(ManagedKeyInfoSchema),
  /** Issuing chain (intermediates, then root) of the current Fulcio certificate; empty before the first. */
  fulcioChain: Type.Array(Type.String()),
  /** The managed-state version this answer was read from. */
  stateVersion: Type.Integer({ minimum: 1 }),
  /** The release keys the Signer trusts for scanner images (release integrity, contract §5). */
  trustAnchors: Type.Array(
    Type.Object({
      keyId: Digest,
      publicKeyPem: Type.String(),
      label: Type.Optional(Type.String()),
      addedAt: Rfc3339,
    }),
  ),
});

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ format: 'uri' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.Union(SIGNER_ERROR_CODES.map((code) => Type.Literal(code))),
    auditId: Type.String(),
    instance: Type.Optional(Type.String()),
  },
  { description: 'RFC 9457 problem details' },
);

const Principal = Type.Object({
  sub: Type.String({ description: 'OpTok sub' }),
  tenant: Type.Optional(Type.String()),
  clientId: Type.Optional(Type.String()),
});
const Vote = Type.Object({
  principal: Principal,
  at: Type.String({ description: 'RFC 3339 UTC' }),
  reason: Type.Optional(Type.String()),
});

/** A ceremony as stored (contract §11). */
export const CeremonySchema = Type.Object(
  {
    id: Type.String({
      pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
      description: 'UUIDv7',
    }),
    operation: Type.Object(
      { kind: Type.String() },
      { additionalProperties: true, description: 'as created' },
    ),
    status: Type.Union(
      ['pending', 'approved', 'rejected', 'executed', 'expired', 'cancelled'].map((s) => Type.Literal(s)),
    ),
    initiator: Principal,
    createdAt: Type.String(),
    expiresAt: Type.String(),
    threshold: Type.Integer({ minimum: 1, description: 'approvals required (M)' }),
    approvals: Type.Array(Vote),
    rejections: Type.Array(Vote),
    decidedAt: Type.Optional(Type.String()),
    executedBy: Type.Optional(Principal),
    resultVersion: Type.Optional(
      Type.Integer({ description: 'managed-state version the execution produced' }),
    ),
    revision: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

export const CeremonyListSchema = Type.Object(
  { ceremonies: Type.Array(CeremonySchema) },
  { additionalProperties: false },
);
